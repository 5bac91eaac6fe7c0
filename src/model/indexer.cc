#include "model/indexer.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/check.h"
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
  for (int64_t t = 0; t < ctx.n; ++t)
    for (int h = 0; h < nh; ++h) {
      float* qh = q + (t * nh + h) * hd;
      rope_apply(qh + hd - rd, ctx.rope, ctx.start_pos + t);
      hadamard_transform(qh, hd);
      fp4_simulate(qh, hd, 32);
    }
  return q;
}

}  // namespace

IndexerPicks indexer_select(const LayerContext& ctx, const IndexerWeights& w, LayerState& state, const float* x,
                            const float* qr) {
  const ModelConfig& c = ctx.config;
  const int nh = c.index_n_heads, hd = c.index_head_dim, k_max = c.index_topk;
  const float* q = indexer_queries(ctx, w, qr);
  compressor_forward(ctx, w.compressor, CompressedKind::kIndexerKey, state.index_compressor, x,
                     state.index_keys.data());

  float* head_w = ctx.arena.alloc<float>(size_t(ctx.n * nh));
  matmul(w.weights_proj, x, ctx.n, head_w);
  const float weight_scale = float(1.0 / std::sqrt(double(hd)) / std::sqrt(double(nh)));

  IndexerPicks picks{ctx.arena.alloc<int32_t>(size_t(ctx.n * k_max)), ctx.arena.alloc<int32_t>(size_t(ctx.n))};
  const int64_t max_entries = (ctx.start_pos + ctx.n) / 4;
  float* scores = ctx.arena.alloc<float>(size_t(std::max<int64_t>(max_entries, 1)));
  std::vector<int32_t> hooked;
  for (int64_t t = 0; t < ctx.n; ++t) {
    const int64_t pos = ctx.start_pos + t;
    const int n_eligible = int((pos + 1) / 4);
    const float* wt = head_w + t * nh;
    for (int e = 0; e < n_eligible; ++e) {
      const float* key = state.index_keys.data() + int64_t(e) * hd;
      float s = 0.0f;
      for (int h = 0; h < nh; ++h) {
        const float* qh = q + (t * nh + h) * hd;
        float dot = 0.0f;
        for (int i = 0; i < hd; ++i) dot += qh[i] * key[i];
        s += std::fmax(dot, 0.0f) * (wt[h] * weight_scale);
      }
      scores[e] = s;
    }
    int32_t* row = picks.ids + t * k_max;
    int count = std::min(k_max, n_eligible);
    topk(scores, n_eligible, count, row);
    if (ctx.hook) {
      hooked.assign(row, row + count);
      ctx.hook->indexer(ctx.layer, pos, {scores, size_t(n_eligible)}, hooked);
      count = int(std::min<size_t>(hooked.size(), size_t(k_max)));
      for (int i = 0; i < count; ++i) {
        DSV4_CHECK(0 <= hooked[size_t(i)] && hooked[size_t(i)] < n_eligible);
        row[i] = hooked[size_t(i)];
      }
    }
    picks.count[t] = count;
  }
  return picks;
}

}  // namespace dsv4
