#include "model/block.h"

#include "kernels/rmsnorm.h"
#include "model/attention.h"
#include "model/hc.h"
#include "model/moe.h"

namespace dsv4 {

namespace {
void rmsnorm_rows(const float* x, const std::vector<float>& w, int64_t n, int dim, float eps, float* y) {
  for (int64_t t = 0; t < n; ++t) rmsnorm(x + t * dim, w.data(), dim, eps, y + t * dim);
}
}  // namespace

void block_forward(const LayerContext& ctx, const BlockWeights& w, LayerState& state, float* x) {
  const ModelConfig& c = ctx.config;
  const int64_t n = ctx.n;
  float* h = ctx.arena.alloc<float>(size_t(n * c.dim));    // collapsed stream, then its norm
  float* f = ctx.arena.alloc<float>(size_t(n * c.dim));    // sub-block output
  float* post = ctx.arena.alloc<float>(size_t(n * c.hc_mult));
  float* comb = ctx.arena.alloc<float>(size_t(n * c.hc_mult * c.hc_mult));

  hc_pre(c, w.hc_attn, x, n, h, post, comb, ctx.arena);
  rmsnorm_rows(h, w.attn_norm, n, c.dim, c.norm_eps, h);
  attention_forward(ctx, w.attn, state, h, f);
  hc_post(c, f, post, comb, n, x);

  hc_pre(c, w.hc_ffn, x, n, h, post, comb, ctx.arena);
  rmsnorm_rows(h, w.ffn_norm, n, c.dim, c.norm_eps, h);
  moe_forward(ctx, w.ffn, h, f);
  hc_post(c, f, post, comb, n, x);
  state.next_pos = ctx.start_pos + n;
}

}  // namespace dsv4
