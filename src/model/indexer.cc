#include "model/indexer.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/check.h"
#include "base/thread_pool.h"
#include "kernels/hadamard.h"
#include "kernels/matmul.h"
#include "kernels/quantize.h"
#include "kernels/rope.h"
#include "kernels/topk.h"
#include "model/compressor.h"

namespace dsv4 {

namespace {

// Queries: RoPE on the last rope_head_dim dims of each head, then Hadamard and FP4 simulation.
float* indexer_queries(const LayerContext& ctx, const IndexerWeights& w, const float* qr) {
  const ModelConfig& c = ctx.config;
  const int nh = c.index_n_heads, hd = c.index_head_dim, rd = c.rope_head_dim;
  float* q = ctx.arena.alloc<float>(size_t(ctx.n * nh * hd));
  matmul(w.wq_b, qr, ctx.n, q);
  default_thread_pool().parallel_for(ctx.n * nh, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {  // r = token · heads + head
      float* qh = q + r * hd;
      rope_apply(qh + hd - rd, ctx.rope, ctx.start_pos + r / nh);
      hadamard_transform(qh, hd);
      fp4_simulate(qh, hd, 32);
    }
  });
  return q;
}

// scores[e] = Σ_h relu(q_h · key_e) · head_w[h] for the first n_eligible keys: the products run as a
// matrix product over blocks of keys (the keys are rows of the cache, used in place).
void score_entries(const ModelConfig& c, const float* q, const float* head_w, const float* keys, int n_eligible,
                   float* scores) {
  constexpr int kBlock = 4096;
  const int nh = c.index_n_heads, hd = c.index_head_dim;
  thread_local std::vector<float> dots;  // [heads, block]
  for (int e0 = 0; e0 < n_eligible; e0 += kBlock) {
    const int len = std::min(kBlock, n_eligible - e0);
    dots.resize(size_t(nh) * size_t(len));
    matmul(WeightMatrix{WeightFormat::kF32, len, hd, keys + int64_t(e0) * hd}, q, nh, dots.data());
    for (int e = 0; e < len; ++e) scores[e0 + e] = 0.0f;
    for (int h = 0; h < nh; ++h) {
      const float* dh = dots.data() + int64_t(h) * len;
      for (int e = 0; e < len; ++e) scores[e0 + e] += std::fmax(dh[e], 0.0f) * head_w[h];
    }
  }
}

}  // namespace

IndexerPicks indexer_select(const LayerContext& ctx, const IndexerWeights& w, LayerState& state, const float* x,
                            const float* qr) {
  const ModelConfig& c = ctx.config;
  const int nh = c.index_n_heads, hd = c.index_head_dim, k_max = c.index_topk;
  const float* q = indexer_queries(ctx, w, qr);
  compressor_forward(ctx, w.compressor, CompressedKind::kIndexerKey, state.index_compressor, x,
                     state.index_keys);

  float* head_w = ctx.arena.alloc<float>(size_t(ctx.n * nh));
  matmul(w.weights_proj, x, ctx.n, head_w);
  const float weight_scale = float(1.0 / std::sqrt(double(hd)) / std::sqrt(double(nh)));
  for (int64_t i = 0; i < ctx.n * nh; ++i) head_w[i] *= weight_scale;

  IndexerPicks picks{ctx.arena.alloc<int32_t>(size_t(ctx.n * k_max)), ctx.arena.alloc<int32_t>(size_t(ctx.n))};
  const int64_t max_entries = (ctx.start_pos + ctx.n) / 4;
  // Keys in FP32: in place, or decoded once per call (every query of the call scores the same prefix).
  const float* keys = state.index_keys.f32_row(0);
  if (!state.index_keys.is_f32()) {
    float* decoded = ctx.arena.alloc<float>(size_t(max_entries * hd));
    default_thread_pool().parallel_for(max_entries, 1024, [&](int64_t e0, int64_t e1) {
      state.index_keys.load(e0, e1, decoded + e0 * hd);
    });
    keys = decoded;
  }
  const auto select = [&](int64_t t, float* scores) {
    const int64_t pos = ctx.start_pos + t;
    const int n_eligible = int((pos + 1) / 4);
    score_entries(c, q + t * nh * hd, head_w + t * nh, keys, n_eligible, scores);
    int32_t* row = picks.ids + t * k_max;
    int count = std::min(k_max, n_eligible);
    topk(scores, n_eligible, count, row);
    if (ctx.hook) {
      std::vector<int32_t> hooked(row, row + count);
      ctx.hook->indexer(ctx.layer, pos, {scores, size_t(n_eligible)}, hooked);
      count = int(std::min<size_t>(hooked.size(), size_t(k_max)));
      for (int i = 0; i < count; ++i) {
        DSV4_CHECK(0 <= hooked[size_t(i)] && hooked[size_t(i)] < n_eligible);
        row[i] = hooked[size_t(i)];
      }
    }
    picks.count[t] = count;
  };
  if (ctx.hook) {  // the test hook is not thread-safe: one query at a time
    std::vector<float> scores(size_t(std::max<int64_t>(max_entries, 1)));
    for (int64_t t = 0; t < ctx.n; ++t) select(t, scores.data());
  } else {
    default_thread_pool().parallel_for(ctx.n, 1, [&](int64_t t0, int64_t t1) {
      thread_local std::vector<float> scores;
      scores.resize(size_t(std::max<int64_t>(max_entries, 1)));
      for (int64_t t = t0; t < t1; ++t) select(t, scores.data());
    });
  }
  return picks;
}

}  // namespace dsv4
