#include "model/moe.h"

#include <algorithm>
#include <cmath>
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

// SwiGLU with clamp on m rows; `row_weight` (may be null) scales each row's activation before w2.
void expert_forward(const LayerBatch& batch, const ExpertWeights& w, const float* x, int64_t m,
                    const float* row_weight, float* out) {
  const int64_t I = w.w1.rows;
  float* g = batch.arena().alloc<float>(size_t(m * I));
  float* u = batch.arena().alloc<float>(size_t(m * I));
  matmul(w.w1, x, m, g);
  matmul(w.w3, x, m, u);
  for (int64_t i = 0; i < m; ++i)
    swiglu(g + i * I, u + i * I, I, batch.config().swiglu_limit, row_weight ? row_weight[i] : 1.0f);
  matmul(w.w2, g, m, out);
}

}  // namespace

void moe_forward(const LayerBatch& batch, const MoeWeights& w, const float* x, float* out) {
  const ModelConfig& c = batch.config();
  Arena& arena = batch.arena();
  const int64_t D = c.dim, n = batch.rows;
  const int k = c.n_activated_experts;
  const Routing r = route(batch, w, x);

  std::fill(out, out + n * D, 0.0f);
  float* xe = arena.alloc<float>(size_t(n * D));
  float* ye = arena.alloc<float>(size_t(n * D));
  float* we = arena.alloc<float>(size_t(n));
  int64_t* rows = arena.alloc<int64_t>(size_t(n));
  for (int e = 0; e < c.n_routed_experts; ++e) {
    int64_t m = 0;
    for (int64_t t = 0; t < n; ++t)
      for (int j = 0; j < k; ++j)
        if (r.ids[t * k + j] == e) {
          rows[m] = t;
          we[m] = r.weights[t * k + j];
          std::copy_n(x + t * D, D, xe + m * D);
          ++m;
        }
    if (m == 0) continue;
    expert_forward(batch, w.experts[size_t(e)], xe, m, we, ye);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t d = 0; d < D; ++d) out[rows[i] * D + d] += ye[i * D + d];
  }
  expert_forward(batch, w.shared, x, n, nullptr, ye);
  for (int64_t i = 0; i < n * D; ++i) out[i] += ye[i];
}

}  // namespace dsv4
