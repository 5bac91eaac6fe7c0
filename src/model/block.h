// One transformer block, the same for every layer kind (Block.forward in inference/model.py):
//   R = X;  a, post, comb = hc_pre(X);  X = hc_post(Attention(attn_norm(a)), R, post, comb)
//   R = X;  f, post, comb = hc_pre(X);  X = hc_post(MoE(ffn_norm(f)), R, post, comb)
// The attention kind (SWA / CSA / HCA) and the routing (hash or scored) come from the config's tables.
#pragma once

#include "model/kv_cache.h"
#include "model/layer_context.h"
#include "model/weights.h"

namespace dsv4 {

// x: the residual streams [rows, hc_mult, dim] of every sequence of the batch, updated in place.
void block_forward(const LayerBatch& batch, const BlockWeights& w, float* x);

}  // namespace dsv4
