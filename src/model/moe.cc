#include "model/moe.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "base/check.h"
#include "kernels/activation.h"
#include "kernels/matmul.h"
#include "kernels/topk.h"

namespace dsv4 {

namespace {

float softplus(float v) { return v > 20.0f ? v : std::log1p(std::exp(v)); }  // torch: beta 1, threshold 20

struct Routing {
  int32_t* ids;    // [n, k]
  float* weights;  // [n, k]
};

Routing route(const LayerBatch& batch, const MoeWeights& w, const float* x) {
  const ModelConfig& c = batch.config();
  Arena& arena = batch.arena();
  const int E = c.n_routed_experts, k = c.n_activated_experts;
  float* p = arena.alloc<float>(size_t(batch.rows * E));
  matmul(w.gate, x, batch.rows, p);
  for (int64_t i = 0; i < batch.rows * E; ++i) p[i] = std::sqrt(softplus(p[i]));
  Routing r{arena.alloc<int32_t>(size_t(batch.rows * k)), arena.alloc<float>(size_t(batch.rows * k))};
  float* biased = arena.alloc<float>(size_t(E));
  int64_t row = 0;
  for (const LayerContext& ctx : batch.seqs)
    for (int64_t t = 0; t < ctx.n; ++t, ++row) {
      const float* pt = p + row * E;
      int32_t* ids = r.ids + row * k;
      float* weights = r.weights + row * k;
      if (!w.tid2eid.empty()) {
        DSV4_CHECK(0 <= ctx.ids[t] && ctx.ids[t] < c.vocab_size);
        std::copy_n(w.tid2eid.data() + int64_t(ctx.ids[t]) * k, k, ids);
      } else {
        for (int e = 0; e < E; ++e) biased[e] = pt[e] + w.bias[e];
        topk(biased, E, k, ids);
      }
      if (ctx.hook) ctx.hook->experts(ctx.layer, ctx.start_pos + t, {ids, size_t(k)});
      float sum = 0.0f;
      for (int j = 0; j < k; ++j) {
        DSV4_CHECK(0 <= ids[j] && ids[j] < E);
        for (int i = 0; i < j; ++i) DSV4_CHECK(ids[i] != ids[j]);  // moe_forward gathers at most n rows
        sum += weights[j] = pt[ids[j]];
      }
      for (int j = 0; j < k; ++j) weights[j] = weights[j] / sum * c.route_scale;
    }
  return r;
}

// Rows per group of expert runs that share one matmul batch (at least a call's rows).
constexpr int64_t kGroupRows = 64;

// The rows one expert runs on: x (m rows), and where its outputs go.
struct ExpertRun {
  const ExpertWeights* w;
  const float* x;
  int64_t m;
  float* row_weight;  // scales each row's activation before w2; null for the shared expert
  int64_t* rows;      // batch row of each of the m rows; null: all rows in order
  float *g, *u, *y;   // [m, inter] gate and up, [m, dim] output
};

// SwiGLU with clamp for every run: w1 and w3 of all of them in one matmul batch, then w2 of all of them.
void experts_forward(const LayerBatch& batch, std::span<const ExpertRun> runs) {
  MatmulJob* jobs = batch.arena().alloc<MatmulJob>(2 * runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    const ExpertRun& r = runs[i];
    jobs[2 * i] = {&r.w->w1, r.x, r.m, r.g};
    jobs[2 * i + 1] = {&r.w->w3, r.x, r.m, r.u};
  }
  matmul_batch({jobs, 2 * runs.size()});
  for (size_t i = 0; i < runs.size(); ++i) {
    const ExpertRun& r = runs[i];
    const int64_t I = r.w->w1.rows;
    for (int64_t t = 0; t < r.m; ++t)
      swiglu(r.g + t * I, r.u + t * I, I, batch.config().swiglu_limit, r.row_weight ? r.row_weight[t] : 1.0f);
    jobs[i] = {&r.w->w2, r.g, r.m, r.y};
  }
  matmul_batch({jobs, runs.size()});
}

}  // namespace

void moe_forward(const LayerBatch& batch, const MoeWeights& w, const float* x, float* out) {
  const ModelConfig& c = batch.config();
  Arena& arena = batch.arena();
  const int64_t D = c.dim, n = batch.rows;
  const int k = c.n_activated_experts;
  const Routing r = route(batch, w, x);

  // The routed experts that have rows, in ascending id, then the shared expert.
  ExpertRun* runs = arena.alloc<ExpertRun>(size_t(c.n_routed_experts + 1));
  size_t n_runs = 0;
  int64_t inter = w.shared.w1.rows;
  for (int e = 0; e < c.n_routed_experts; ++e) {
    int64_t m = 0;
    for (int64_t t = 0; t < n * k; ++t) m += r.ids[t] == e;
    if (m == 0) continue;
    ExpertRun& run = runs[n_runs++];
    run = {&w.experts[size_t(e)], x, m, arena.alloc<float>(size_t(m)), arena.alloc<int64_t>(size_t(m)), nullptr, nullptr, nullptr};
    m = 0;
    for (int64_t t = 0; t < n; ++t)
      for (int j = 0; j < k; ++j)
        if (r.ids[t * k + j] == e) run.rows[m] = t, run.row_weight[m++] = r.weights[t * k + j];
    inter = std::max(inter, run.w->w1.rows);
  }
  runs[n_runs++] = {&w.shared, x, n, nullptr, nullptr, nullptr, nullptr, nullptr};

  // Runs go in groups of up to `cap` rows (a decode step's are one group), each group in buffers that
  // every group reuses: a prefill chunk does not hold every expert's activations at once.
  const int64_t cap = std::max<int64_t>(n, kGroupRows);
  float* xs = arena.alloc<float>(size_t(cap * D));
  float* gs = arena.alloc<float>(size_t(cap * inter));
  float* us = arena.alloc<float>(size_t(cap * inter));
  float* ys = arena.alloc<float>(size_t(cap * D));
  std::fill(out, out + n * D, 0.0f);
  for (size_t first = 0, last = 0; first < n_runs; first = last) {
    int64_t used = 0;
    for (; last < n_runs && used + runs[last].m <= cap; ++last) {
      ExpertRun& run = runs[last];
      if (run.m < n) {  // a subset of the rows: gathered (with every row, the products read x itself)
        for (int64_t i = 0; i < run.m; ++i) std::copy_n(x + run.rows[i] * D, D, xs + (used + i) * D);
        run.x = xs + used * D;
      }
      run.g = gs + used * inter;
      run.u = us + used * inter;
      run.y = ys + used * D;
      used += run.m;
    }
    const std::span<const ExpertRun> group(runs + first, last - first);
    experts_forward(batch, group);
    for (const ExpertRun& run : group)
      for (int64_t i = 0; i < run.m; ++i) {
        float* o = out + (run.rows ? run.rows[i] : i) * D;
        for (int64_t d = 0; d < D; ++d) o[d] += run.y[i * D + d];
      }
  }
}

}  // namespace dsv4
