// ModelConfig: every field of the official DeepSeek-V4 HF `config.json` (v4-architecture.md §1.1), typed,
// under the reference's ModelArgs names where it has one, plus what the engine derives from them.
// parse_model_config rejects what the engine cannot run (unknown model_type, compress ratios other than
// 0/4/128, scoring functions other than sqrtsoftplus, ...) with a message naming the field.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace dsv4 {

enum class AttnKind : uint8_t { kSWA, kCSA, kHCA };  // compress ratio 0, 4, 128
const char* attn_kind_name(AttnKind k);

struct ModelConfig {
  // identity
  std::vector<std::string> architectures;  // ["DeepseekV4ForCausalLM"]
  std::string model_type;                  // "deepseek_v4"
  std::string torch_dtype = "bfloat16";
  std::string transformers_version;
  // trunk
  int64_t vocab_size = 0;
  int dim = 0;                   // hidden_size
  int n_layers = 0;              // num_hidden_layers (main blocks; MTP extra)
  int n_heads = 0;               // num_attention_heads
  int n_kv_heads = 1;            // num_key_value_heads (the code supports exactly 1)
  int head_dim = 0;              // 512: KV entry width; last rope_head_dim dims are RoPE
  int rope_head_dim = 0;         // qk_rope_head_dim
  int q_lora_rank = 0;
  int o_groups = 0;
  int o_lora_rank = 0;
  int window_size = 0;           // sliding_window, incl. the current token
  float norm_eps = 1e-6f;        // rms_norm_eps
  std::string hidden_act = "silu";
  bool tie_word_embeddings = false;
  bool attention_bias = false;
  double attention_dropout = 0.0;
  double initializer_range = 0.02;
  bool use_cache = true;
  int64_t bos_token_id = 0;
  int64_t eos_token_id = 1;
  int64_t max_position_embeddings = 0;
  // MoE
  int n_routed_experts = 0;
  int n_activated_experts = 0;   // num_experts_per_tok
  int n_shared_experts = 1;
  int moe_inter_dim = 0;         // moe_intermediate_size
  int n_hash_layers = 0;         // num_hash_layers
  std::string score_func;        // scoring_func: "sqrtsoftplus"
  std::string topk_method;       // "noaux_tc" (not read by the reference)
  bool norm_topk_prob = true;
  float route_scale = 1.0f;      // routed_scaling_factor
  float swiglu_limit = 0.0f;     // 0 = no clamp
  // attention variants and positions
  std::vector<int> compress_ratios;  // n_layers + n_mtp_layers entries; the tail belongs to the MTP blocks
  double rope_theta = 10000;         // ratio-0 layers, no YaRN
  double compress_rope_theta = 160000;  // compressed layers, with YaRN
  std::string rope_scaling_type;     // "yarn" or "" (none)
  double rope_factor = 1;
  int64_t original_seq_len = 0;      // rope_scaling.original_max_position_embeddings; 0 = no YaRN
  double beta_fast = 32, beta_slow = 1;
  // lightning indexer
  int index_n_heads = 0, index_head_dim = 0, index_topk = 0;
  // mHC
  int hc_mult = 4, hc_sinkhorn_iters = 20;
  float hc_eps = 1e-6f;
  // MTP
  int n_mtp_layers = 0;  // num_nextn_predict_layers
  // quantization: FP8 trunk (quantization_config present) and FP4 routed experts (expert_dtype "fp4")
  bool fp8 = false;
  std::string quant_method, quant_fmt, quant_scale_fmt, quant_activation_scheme;
  std::vector<int> weight_block_size;  // [128, 128]
  bool fp4_experts = false;

  // derived
  int nope_head_dim() const { return head_dim - rope_head_dim; }
  int hc_dim() const { return hc_mult * dim; }
  int hc_mix() const { return (2 + hc_mult) * hc_mult; }  // pre (hc) + post (hc) + comb (hc*hc)
  int ratio(int layer) const { return compress_ratios[size_t(layer)]; }
  AttnKind attn_kind(int layer) const;
  bool is_hash_layer(int layer) const { return layer < n_hash_layers; }
  int n_total_layers() const { return n_layers + n_mtp_layers; }  // MTP block m has layer id n_layers + m
};

Result<ModelConfig> parse_model_config_json(const std::string& text, const std::string& label);
Result<ModelConfig> load_model_config(const std::string& path);  // a config.json file or a model directory

}  // namespace dsv4
