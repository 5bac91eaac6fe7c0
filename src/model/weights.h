// ModelWeights: the checkpoint's tensors bound to the model's structure, checked against the config's
// expected tensor list (names, dtypes, shapes; nothing missing, nothing unexpected) before the first
// token. Big matrices are used in place from the mmap. Small vectors are converted at load: BF16 norm
// weights to FP32 (as the reference does), I64 tid2eid to int32, and F32 tensors that the file stores
// at a misaligned offset are copied (counted in `copied_bytes`).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "io/checkpoint.h"
#include "kernels/matmul.h"
#include "model/config.h"

namespace dsv4 {

struct HcWeights {       // one mHC site
  WeightMatrix fn;       // [hc_mix, hc*dim] F32
  const float* base;     // [hc_mix]
  const float* scale;    // [3]
};

struct HcHeadWeights {   // final stream collapse
  WeightMatrix fn;       // [hc, hc*dim] F32
  const float* base;     // [hc]
  const float* scale;    // [1]
};

struct CompressorWeights {
  int ratio = 0;
  int head_dim = 0;          // d: 512 (main) or index_head_dim
  WeightMatrix wkv, wgate;   // [coff*d, dim], BF16, FP32 semantics (no input quantization)
  const float* ape = nullptr;  // [ratio, coff*d]
  std::vector<float> norm;   // [d]
};

struct IndexerWeights {
  WeightMatrix wq_b;          // [index_n_heads * index_head_dim, q_lora_rank]
  WeightMatrix weights_proj;  // [index_n_heads, dim] BF16
  CompressorWeights compressor;
};

struct AttentionWeights {
  const float* sink = nullptr;  // [n_heads]
  WeightMatrix wq_a;            // [q_lora_rank, dim]
  std::vector<float> q_norm;    // [q_lora_rank]
  WeightMatrix wq_b;            // [n_heads*head_dim, q_lora_rank]
  WeightMatrix wkv;             // [head_dim, dim]
  std::vector<float> kv_norm;   // [head_dim]
  WeightMatrix wo_a;            // [o_groups*o_lora_rank, n_heads*head_dim/o_groups]: used as its exact BF16
                                // dequantization (convert.py), so its input is not quantized
  WeightMatrix wo_b;            // [dim, o_groups*o_lora_rank]
  CompressorWeights compressor;  // ratio != 0
  IndexerWeights indexer;        // ratio == 4
};

struct ExpertWeights {
  WeightMatrix w1, w2, w3;  // gate [inter, dim], down [dim, inter], up [inter, dim]
};

struct MoeWeights {
  WeightMatrix gate;              // [n_routed_experts, dim] BF16, FP32 semantics
  std::vector<int32_t> tid2eid;   // hash layers: [vocab_size, n_activated_experts]
  const float* bias = nullptr;    // other layers: [n_routed_experts], selection only
  std::vector<ExpertWeights> experts;
  ExpertWeights shared;
};

struct BlockWeights {
  int layer = 0;
  std::vector<float> attn_norm, ffn_norm;  // [dim]
  HcWeights hc_attn, hc_ffn;
  AttentionWeights attn;
  MoeWeights ffn;
};

struct MtpWeights {
  BlockWeights block;
  WeightMatrix e_proj, h_proj;               // [dim, dim]
  std::vector<float> enorm, hnorm, norm;     // [dim]
  HcHeadWeights hc_head;
};

struct ModelWeights {
  const uint16_t* embed = nullptr;  // [vocab_size, dim] BF16
  WeightMatrix head;                // [vocab_size, dim] BF16, FP32 semantics
  std::vector<float> norm;          // [dim]
  HcHeadWeights hc_head;
  std::vector<BlockWeights> layers;
  std::vector<MtpWeights> mtp;
  int64_t copied_bytes = 0;         // misaligned tensors copied at load
  std::vector<std::unique_ptr<float[]>> owned;  // storage of those copies
};

// Checks the checkpoint against expected_tensors(config) and binds every tensor.
Result<ModelWeights> bind_weights(const Checkpoint& ckpt, const ModelConfig& config);

}  // namespace dsv4
