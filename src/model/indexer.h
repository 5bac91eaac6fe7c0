// Lightning indexer (ratio-4 layers): scores every complete compressed entry for each query and keeps the
// top index_topk (Indexer.forward in inference/model.py):
//   I[t, c] = Σ_h w[t, h] · relu(q[t, h] · k[c]),  w = weights_proj(x) · index_head_dim^-½ · index_n_heads^-½
// with queries and keys Hadamard-rotated and FP4-simulated. Query t sees entries c < ⌊(t + 1) / 4⌋.
#pragma once

#include <cstdint>

#include "model/compressor.h"
#include "model/kv_cache.h"
#include "model/layer_context.h"
#include "model/weights.h"

namespace dsv4 {

struct IndexerPicks {
  int32_t* ids;    // [n, index_topk] entry ids, best first
  int32_t* count;  // [n] valid ids per row
};

// The indexer's products with its weights, over every row of a batch: x: attn_norm output [rows, dim];
// qr: the query latent (q_norm(wq_a(x))) [rows, q_lora_rank].
struct IndexerInput {
  float* q;              // [rows, index_n_heads, index_head_dim]: wq_b(qr), RoPE not yet applied
  float* head_w;         // [rows, index_n_heads]: weights_proj(x) · index_head_dim^-½ · index_n_heads^-½
  CompressorInput keys;  // the indexer compressor's projections
  int64_t heads, head_dim;

  IndexerInput from_row(int64_t r) const {
    return {q + r * heads * head_dim, head_w + r * heads, keys.from_row(r), heads, head_dim};
  }
};
// Allocates the outputs and adds the products to the caller's batches: those of x to `on_x`, wq_b(qr)
// to `on_qr` (qr need not be computed yet). After on_x has run, indexer_scale_head_weights applies the
// head weights' scale.
IndexerInput indexer_project(const ModelConfig& c, const IndexerWeights& w, const float* x, const float* qr,
                             int64_t rows, Arena& arena, MatmulJobs& on_x, MatmulJobs& on_qr);
void indexer_scale_head_weights(IndexerInput& in, int64_t rows);

// One sequence's picks; `in` starts at its first row. Runs the indexer compressor first, so entries
// completed by this call are eligible.
IndexerPicks indexer_select(const LayerContext& ctx, const IndexerWeights& w, LayerState& state,
                            const IndexerInput& in);

}  // namespace dsv4
