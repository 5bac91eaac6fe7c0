// Attention of one block, all three kinds (Attention.forward in inference/model.py):
//   q  = wq_b(q_norm(wq_a(x))) per head, weightless RMS norm, RoPE on the last rope_head_dim dims
//   kv = kv_norm(wkv(x)), RoPE, FP8 simulation of the nope dims — one 512-d latent that is both K and V
//   entries attended by the query at position p:
//     SWA (ratio 0)    the window: positions p − window_size + 1 … p
//     CSA (ratio 4)    the window + the indexer's top-k compressed entries
//     HCA (ratio 128)  the window + every complete compressed entry
//   one softmax with the per-head sink, inverse RoPE on the output, then the grouped low-rank output
//   projection wo_a (per group) → wo_b.
#pragma once

#include "model/kv_cache.h"
#include "model/layer_context.h"
#include "model/weights.h"

namespace dsv4 {

// x: attn_norm output [rows, dim]; out: [rows, dim]. The projections run once over every row of the batch;
// each sequence attends to its own cache and appends its rows to its window ring and compressed caches.
void attention_forward(const LayerBatch& batch, const AttentionWeights& w, const float* x, float* out);

}  // namespace dsv4
