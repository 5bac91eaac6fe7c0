#include "model/attention.h"

#include <algorithm>
#include <cmath>

#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/quantize.h"
#include "kernels/rmsnorm.h"
#include "kernels/rope.h"
#include "model/compressor.h"
#include "model/indexer.h"

namespace dsv4 {

namespace {

float* project_queries(const LayerContext& ctx, const AttentionWeights& w, const float* qr) {
  const ModelConfig& c = ctx.config;
  const int hd = c.head_dim, rd = c.rope_head_dim;
  float* q = ctx.arena.alloc<float>(size_t(ctx.n * c.n_heads * hd));
  matmul(w.wq_b, qr, ctx.n, q);
  for (int64_t t = 0; t < ctx.n; ++t)
    for (int h = 0; h < c.n_heads; ++h) {
      float* qh = q + (t * c.n_heads + h) * hd;
      rmsnorm(qh, nullptr, hd, c.norm_eps, qh);
      rope_apply(qh + hd - rd, ctx.rope, ctx.start_pos + t);
    }
  return q;
}

float* project_kv(const LayerContext& ctx, const AttentionWeights& w, const float* x) {
  const ModelConfig& c = ctx.config;
  const int hd = c.head_dim, rd = c.rope_head_dim;
  float* kv = ctx.arena.alloc<float>(size_t(ctx.n * hd));
  matmul(w.wkv, x, ctx.n, kv);
  for (int64_t t = 0; t < ctx.n; ++t) {
    float* row = kv + t * hd;
    rmsnorm(row, w.kv_norm.data(), hd, c.norm_eps, row);
    rope_apply(row + hd - rd, ctx.rope, ctx.start_pos + t);
    fp8_simulate(row, hd - rd, 64);  // RoPE dims stay unquantized for positional precision
  }
  return kv;
}

// The window rows a query at `pos` attends to, oldest first: earlier calls' rows come from the ring,
// this call's rows from `kv` (the ring is written only after every query of the call has read it).
int gather_window(const LayerContext& ctx, const LayerState& state, const float* kv, int64_t pos,
                  const float** list) {
  const ModelConfig& c = ctx.config;
  int n = 0;
  for (int64_t p = std::max<int64_t>(0, pos - c.window_size + 1); p <= pos; ++p)
    list[n++] = p >= ctx.start_pos ? kv + (p - ctx.start_pos) * c.head_dim
                                   : state.window.data() + (p % c.window_size) * c.head_dim;
  return n;
}

void write_window(const LayerContext& ctx, LayerState& state, const float* kv) {
  const ModelConfig& c = ctx.config;
  for (int64_t t = std::max<int64_t>(0, ctx.n - c.window_size); t < ctx.n; ++t)
    std::copy(kv + t * c.head_dim, kv + (t + 1) * c.head_dim,
              state.window.begin() + ((ctx.start_pos + t) % c.window_size) * c.head_dim);
}

// u[g] = o[g] · wo_a[g]ᵀ for each group of n_heads / o_groups consecutive heads, then out = wo_b(u).
void output_projection(const LayerContext& ctx, const AttentionWeights& w, const float* o, float* out) {
  const ModelConfig& c = ctx.config;
  const int64_t G = c.o_groups, R = c.o_lora_rank, group_width = int64_t(c.n_heads) * c.head_dim / G;
  float* og = ctx.arena.alloc<float>(size_t(ctx.n * group_width));
  float* ug = ctx.arena.alloc<float>(size_t(ctx.n * R));
  float* u = ctx.arena.alloc<float>(size_t(ctx.n * G * R));
  for (int64_t g = 0; g < G; ++g) {
    for (int64_t t = 0; t < ctx.n; ++t)
      std::copy_n(o + t * G * group_width + g * group_width, group_width, og + t * group_width);
    matmul(weight_rows(w.wo_a, g * R, (g + 1) * R), og, ctx.n, ug);
    for (int64_t t = 0; t < ctx.n; ++t) std::copy_n(ug + t * R, R, u + t * G * R + g * R);
  }
  matmul(w.wo_b, u, ctx.n, out);
}

}  // namespace

void attention_forward(const LayerContext& ctx, const AttentionWeights& w, LayerState& state, const float* x,
                       float* out) {
  const ModelConfig& c = ctx.config;
  const int hd = c.head_dim, rd = c.rope_head_dim, ratio = c.ratio(ctx.layer);

  float* qr = ctx.arena.alloc<float>(size_t(ctx.n * c.q_lora_rank));
  matmul(w.wq_a, x, ctx.n, qr);
  for (int64_t t = 0; t < ctx.n; ++t)
    rmsnorm(qr + t * c.q_lora_rank, w.q_norm.data(), c.q_lora_rank, c.norm_eps, qr + t * c.q_lora_rank);
  const float* q = project_queries(ctx, w, qr);
  const float* kv = project_kv(ctx, w, x);

  IndexerPicks picks{};
  if (ratio) compressor_forward(ctx, w.compressor, CompressedKind::kAttentionKv, state.compressor, x,
                                state.entries.data());
  if (ratio == 4) picks = indexer_select(ctx, w.indexer, state, x, qr);

  const int64_t max_compressed = ratio == 4 ? c.index_topk : ratio ? (ctx.start_pos + ctx.n) / ratio : 0;
  const float** list = ctx.arena.alloc<const float*>(size_t(c.window_size + max_compressed));
  float* o = ctx.arena.alloc<float>(size_t(ctx.n * c.n_heads * hd));
  const float scale = float(1.0 / std::sqrt(double(hd)));
  for (int64_t t = 0; t < ctx.n; ++t) {
    const int64_t pos = ctx.start_pos + t;
    int n_list = gather_window(ctx, state, kv, pos, list);
    if (ratio == 4) {
      for (int i = 0; i < picks.count[t]; ++i)
        list[n_list++] = state.entries.data() + int64_t(picks.ids[t * c.index_topk + i]) * hd;
    } else if (ratio) {
      for (int64_t e = 0; e < (pos + 1) / ratio; ++e) list[n_list++] = state.entries.data() + e * hd;
    }
    float* ot = o + t * c.n_heads * hd;
    sparse_attention(q + t * c.n_heads * hd, c.n_heads, hd, list, n_list, w.sink, scale, ot);
    for (int h = 0; h < c.n_heads; ++h) rope_apply(ot + h * hd + hd - rd, ctx.rope, pos, /*inverse=*/true);
  }
  write_window(ctx, state, kv);
  output_projection(ctx, w, o, out);
}

}  // namespace dsv4
