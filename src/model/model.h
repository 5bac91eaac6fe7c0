// Model: a DeepSeek-V4 checkpoint, loaded (memory-mapped, validated) and runnable. The forward pass is
// written once, eagerly, in FP32 with the model's own quantizers kept (activation FP8 before FP8/FP4
// products, KV FP8 simulation, indexer Hadamard + FP4 simulation): the `fp32tf` numerics of the golden
// cases.
//
//   ids → embed → hc_mult streams → Block × n_layers → hc_head → norm → head → logits
//                                    └→ (last streams) MTP block → hc_head → norm → head → draft logits
//
// Calls may cover any run of positions: a whole prompt, a chunk of it, or one token; the caches carry the
// state between them (kv_cache.h).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/arena.h"
#include "base/status.h"
#include "io/checkpoint.h"
#include "model/config.h"
#include "model/decisions.h"
#include "model/kv_cache.h"
#include "model/layer_context.h"
#include "model/weights.h"

namespace dsv4 {

class Model {
 public:
  // A model directory (config.json + safetensors) or a config file next to model.safetensors.
  static Result<std::unique_ptr<Model>> load(const std::string& path);

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  const Checkpoint& checkpoint() const { return checkpoint_; }

  KvCache new_cache(int64_t capacity, KvFormat format = {}) const { return make_kv_cache(config_, capacity, format); }

  // Embeds n tokens into the residual streams: out [n, hc_mult, dim].
  void embed(const int32_t* ids, int64_t n, float* out) const;

  // Main blocks over positions [start_pos, start_pos + n); x: [n, hc_mult, dim] in, the last block's
  // streams out. Requires start_pos == the cache's next position and start_pos + n <= capacity.
  void forward_blocks(const int32_t* ids, int64_t n, int64_t start_pos, KvCache& cache, float* x,
                      DecisionHook* hook = nullptr);

  // One block (main layer id or MTP layer id) over the same kind of call; its own LayerState.
  void block(int layer, const int32_t* ids, int64_t n, int64_t start_pos, LayerState& state, float* x,
             DecisionHook* hook = nullptr);

  // hc_head collapse + final norm + head for n rows of streams: logits [n, vocab_size].
  void logits(const float* x, int64_t n, float* out);

  // MTP block m: h = the last main block's streams at positions [start_pos, start_pos + n), next_ids =
  // the tokens at positions + 1. Writes draft logits [n, vocab_size] (they predict positions + 2).
  void mtp_logits(int m, const float* h, const int32_t* next_ids, int64_t n, int64_t start_pos, KvCache& cache,
                  float* out, DecisionHook* hook = nullptr);

  // One decode step of several sequences at once (continuous batching): sequence i takes ids[i] at the
  // next position of caches[i] (each cache at its own position, no cache twice). The products with the
  // weights — every linear layer, each MoE expert over the rows routed to it, the head — run once over
  // all the tokens; attention runs per sequence against its own cache. out: [ids.size(), vocab_size].
  // Every matmul variant is batch-invariant (kernels/matmul_internal.h) and the rest works row by row,
  // so each row of logits is bit-identical to forward(&ids[i], 1, ...) on that cache alone.
  void decode(std::span<const int32_t> ids, std::span<KvCache* const> caches, float* out);

  // Convenience: embed + forward_blocks + logits of every row. out: [n, vocab_size].
  void forward(const int32_t* ids, int64_t n, int64_t start_pos, KvCache& cache, float* out,
               DecisionHook* hook = nullptr);

 private:
  Model() = default;
  const BlockWeights& block_weights(int layer) const;
  // One sequence's context for a call of `layer`, after checking the call fits its state.
  LayerContext layer_context(int layer, const int32_t* ids, int64_t n, int64_t start_pos, const LayerState& state,
                             DecisionHook* hook);

  ModelConfig config_;
  Checkpoint checkpoint_;
  ModelWeights weights_;
  std::vector<float> rope_swa_;         // plain RoPE frequencies (ratio-0 layers)
  std::vector<float> rope_compressed_;  // YaRN frequencies (compressed layers)
  Arena arena_;
};

}  // namespace dsv4
