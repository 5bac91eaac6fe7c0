// Lightning indexer (ratio-4 layers): scores every complete compressed entry for each query and keeps the
// top index_topk (Indexer.forward in inference/model.py):
//   I[t, c] = Σ_h w[t, h] · relu(q[t, h] · k[c]),  w = weights_proj(x) · index_head_dim^-½ · index_n_heads^-½
// with queries and keys Hadamard-rotated and FP4-simulated. Query t sees entries c < ⌊(t + 1) / 4⌋.
#pragma once

#include <cstdint>

#include "model/kv_cache.h"
#include "model/layer_context.h"
#include "model/weights.h"

namespace dsv4 {

struct IndexerPicks {
  int32_t* ids;    // [n, index_topk] entry ids, best first
  int32_t* count;  // [n] valid ids per row
};

// x: attn_norm output [n, dim]; qr: the query latent (q_norm(wq_a(x))) [n, q_lora_rank]. Runs the indexer
// compressor first, so entries completed by this call are eligible.
IndexerPicks indexer_select(const LayerContext& ctx, const IndexerWeights& w, LayerState& state, const float* x,
                            const float* qr);

}  // namespace dsv4
