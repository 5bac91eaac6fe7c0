// Compressor: gated pooling of every `ratio` consecutive tokens into one KV entry (Compressor.forward in
// inference/model.py). Ratio 4 overlaps: an entry pools its own block through channels [d, 2d) and the
// previous block through channels [0, d), a softmax over 8 slots per channel. Entries are normalised,
// roped at the block's first position, then quantization-simulated: FP8 on the nope dims (main KV) or
// Hadamard + FP4 (indexer keys).
#pragma once

#include "kernels/matmul.h"
#include "model/kv_cache.h"
#include "model/layer_context.h"
#include "model/weights.h"

namespace dsv4 {

enum class CompressedKind { kAttentionKv, kIndexerKey };

// The compressor's projections of rows of x (attn_norm output [rows, dim]): one product per weight over
// every sequence of a batch; compressor_forward then takes each sequence's rows.
struct CompressorInput {
  const float* kv;     // [rows, width]
  const float* score;  // [rows, width], gate scores before the position bias
  int64_t width;

  CompressorInput from_row(int64_t r) const { return {kv + r * width, score + r * width, width}; }
};
// Allocates the outputs and adds the two products to `jobs`, which the caller runs.
CompressorInput compressor_project(const CompressorWeights& w, const float* x, int64_t rows, Arena& arena,
                                   MatmulJobs& jobs);

// Feeds one sequence's ctx.n projected tokens through its compressor state; each block that a token
// completes is pooled into row c of `entries` (c = block index), stored in the cache's format.
// Works for any call shape: prefill, chunk or single token.
void compressor_forward(const LayerContext& ctx, const CompressorWeights& w, CompressedKind kind,
                        CompressorState& state, const CompressorInput& in, KvRows& entries);

}  // namespace dsv4
