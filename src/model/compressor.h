// Compressor: gated pooling of every `ratio` consecutive tokens into one KV entry (Compressor.forward in
// inference/model.py). Ratio 4 overlaps: an entry pools its own block through channels [d, 2d) and the
// previous block through channels [0, d), a softmax over 8 slots per channel. Entries are normalised,
// roped at the block's first position, then quantization-simulated: FP8 on the nope dims (main KV) or
// Hadamard + FP4 (indexer keys).
#pragma once

#include "model/kv_cache.h"
#include "model/layer_context.h"
#include "model/weights.h"

namespace dsv4 {

enum class CompressedKind { kAttentionKv, kIndexerKey };

// Feeds the call's tokens (x: attn_norm output [n, dim]) through the compressor state; each block that a
// token completes is pooled into row c of `entries` (c = block index), stored in the cache's format.
// Works for any call shape: prefill, chunk or single token.
void compressor_forward(const LayerContext& ctx, const CompressorWeights& w, CompressedKind kind,
                        CompressorState& state, const float* x, KvRows& entries);

}  // namespace dsv4
