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

void block_forward(const LayerBatch& batch, const BlockWeights& w, float* x) {
  const ModelConfig& c = batch.config();
  const int64_t n = batch.rows;
  Arena& arena = batch.arena();
  float* h = arena.alloc<float>(size_t(n * c.dim));    // collapsed stream, then its norm
  float* f = arena.alloc<float>(size_t(n * c.dim));    // sub-block output
  float* post = arena.alloc<float>(size_t(n * c.hc_mult));
  float* comb = arena.alloc<float>(size_t(n * c.hc_mult * c.hc_mult));

  hc_pre(c, w.hc_attn, x, n, h, post, comb, arena);
  rmsnorm_rows(h, w.attn_norm, n, c.dim, c.norm_eps, h);
  attention_forward(batch, w.attn, h, f);
  hc_post(c, f, post, comb, n, x);

  hc_pre(c, w.hc_ffn, x, n, h, post, comb, arena);
  rmsnorm_rows(h, w.ffn_norm, n, c.dim, c.norm_eps, h);
  moe_forward(batch, w.ffn, h, f);
  hc_post(c, f, post, comb, n, x);
  for (size_t i = 0; i < batch.seqs.size(); ++i) batch.states[i]->next_pos = batch.seqs[i].start_pos + batch.seqs[i].n;
}

}  // namespace dsv4
