// Reads config.json with one helper per JSON type; every failure names the field. JSON stays inside
// this file: the rest of the model sees only the typed ModelConfig.
#include "model/config.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace dsv4 {

using json = nlohmann::json;

const char* attn_kind_name(AttnKind k) {
  switch (k) {
    case AttnKind::kSWA: return "SWA";
    case AttnKind::kCSA: return "CSA";
    case AttnKind::kHCA: return "HCA";
  }
  return "?";
}

AttnKind ModelConfig::attn_kind(int layer) const {
  const int r = ratio(layer);
  return r == 0 ? AttnKind::kSWA : r == 4 ? AttnKind::kCSA : AttnKind::kHCA;
}

namespace {

// Reads typed fields from one JSON object, remembering the first error.
class FieldReader {
 public:
  FieldReader(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  template <typename T>
  void integer(const char* key, T& out, bool required = true) {
    const json* v = get(key, required);
    if (!v) return;
    if (!v->is_number_integer()) return fail(key, "an integer", *v);
    const int64_t x = v->get<int64_t>();
    if (x < int64_t(std::numeric_limits<T>::min()) || x > int64_t(std::numeric_limits<T>::max()))
      return fail(key, "an integer in range", *v);
    out = T(x);
  }
  template <typename T>
  void number(const char* key, T& out, bool required = true) {
    const json* v = get(key, required);
    if (!v) return;
    if (!v->is_number()) return fail(key, "a number", *v);
    out = T(v->get<double>());
  }
  void string(const char* key, std::string& out, bool required = true) {
    const json* v = get(key, required);
    if (!v) return;
    if (!v->is_string()) return fail(key, "a string", *v);
    out = v->get<std::string>();
  }
  void boolean(const char* key, bool& out, bool required = true) {
    const json* v = get(key, required);
    if (!v) return;
    if (!v->is_boolean()) return fail(key, "true or false", *v);
    out = v->get<bool>();
  }
  void int_array(const char* key, std::vector<int>& out, bool required = true) {
    const json* v = get(key, required);
    if (!v) return;
    if (!v->is_array()) return fail(key, "an array of integers", *v);
    out.clear();
    for (const auto& e : *v) {
      if (!e.is_number_integer() || std::abs(e.get<int64_t>()) > (1 << 30))
        return fail(key, "an array of integers", *v);
      out.push_back(int(e.get<int64_t>()));
    }
  }
  void string_array(const char* key, std::vector<std::string>& out, bool required = true) {
    const json* v = get(key, required);
    if (!v) return;
    if (!v->is_array()) return fail(key, "an array of strings", *v);
    for (const auto& e : *v) {
      if (!e.is_string()) return fail(key, "an array of strings", *v);
      out.push_back(e.get<std::string>());
    }
  }
  // A nested object, or nullptr when absent or null.
  const json* object(const char* key) {
    const json* v = get(key, false);
    if (!v || v->is_null()) return nullptr;
    if (!v->is_object()) {
      fail(key, "an object", *v);
      return nullptr;
    }
    return v;
  }

  const Status& status() const { return status_; }

 private:
  const json* get(const char* key, bool required) {
    if (!status_.is_ok()) return nullptr;
    const auto it = obj_.find(key);
    if (it == obj_.end() || (it->is_null() && !required)) {
      if (required) status_ = Status::error("{}: missing field '{}'", where_, key);
      return nullptr;
    }
    return &*it;
  }
  void fail(const char* key, const char* expected, const json& found) {
    std::string f = found.dump();
    if (f.size() > 40) f = f.substr(0, 37) + "...";
    status_ = Status::error("{}: field '{}' must be {}, found {}", where_, key, expected, f);
  }

  const json& obj_;
  std::string where_;
  Status status_;
};

void read_fields(const json& j, const std::string& where, ModelConfig& c, Status& st) {
  FieldReader r(j, where);
  r.string_array("architectures", c.architectures, false);
  r.string("model_type", c.model_type);
  r.string("torch_dtype", c.torch_dtype, false);
  r.string("transformers_version", c.transformers_version, false);
  r.integer("vocab_size", c.vocab_size);
  r.integer("hidden_size", c.dim);
  r.integer("num_hidden_layers", c.n_layers);
  r.integer("num_attention_heads", c.n_heads);
  r.integer("num_key_value_heads", c.n_kv_heads, false);
  r.integer("head_dim", c.head_dim);
  r.integer("qk_rope_head_dim", c.rope_head_dim);
  r.integer("q_lora_rank", c.q_lora_rank);
  r.integer("o_groups", c.o_groups);
  r.integer("o_lora_rank", c.o_lora_rank);
  r.integer("sliding_window", c.window_size);
  r.number("rms_norm_eps", c.norm_eps);
  r.string("hidden_act", c.hidden_act, false);
  r.boolean("tie_word_embeddings", c.tie_word_embeddings, false);
  r.boolean("attention_bias", c.attention_bias, false);
  r.number("attention_dropout", c.attention_dropout, false);
  r.number("initializer_range", c.initializer_range, false);
  r.boolean("use_cache", c.use_cache, false);
  r.integer("bos_token_id", c.bos_token_id, false);
  r.integer("eos_token_id", c.eos_token_id, false);
  r.integer("max_position_embeddings", c.max_position_embeddings);
  r.integer("n_routed_experts", c.n_routed_experts);
  r.integer("num_experts_per_tok", c.n_activated_experts);
  r.integer("n_shared_experts", c.n_shared_experts);
  r.integer("moe_intermediate_size", c.moe_inter_dim);
  r.integer("num_hash_layers", c.n_hash_layers, false);
  r.string("scoring_func", c.score_func);
  r.string("topk_method", c.topk_method, false);
  r.boolean("norm_topk_prob", c.norm_topk_prob, false);
  r.number("routed_scaling_factor", c.route_scale);
  r.number("swiglu_limit", c.swiglu_limit, false);
  r.int_array("compress_ratios", c.compress_ratios);
  r.number("rope_theta", c.rope_theta);
  r.number("compress_rope_theta", c.compress_rope_theta);
  r.integer("index_n_heads", c.index_n_heads);
  r.integer("index_head_dim", c.index_head_dim);
  r.integer("index_topk", c.index_topk);
  r.integer("hc_mult", c.hc_mult);
  r.integer("hc_sinkhorn_iters", c.hc_sinkhorn_iters);
  r.number("hc_eps", c.hc_eps);
  r.integer("num_nextn_predict_layers", c.n_mtp_layers, false);
  std::string expert_dtype;
  r.string("expert_dtype", expert_dtype, false);
  if (const json* rs = r.object("rope_scaling")) {
    FieldReader s(*rs, where + ": rope_scaling");
    if (rs->contains("type")) s.string("type", c.rope_scaling_type);
    else s.string("rope_type", c.rope_scaling_type);
    s.number("factor", c.rope_factor);
    s.integer("original_max_position_embeddings", c.original_seq_len);
    s.number("beta_fast", c.beta_fast);
    s.number("beta_slow", c.beta_slow);
    if (!s.status().is_ok() && st.is_ok()) st = s.status();
  }
  if (const json* q = r.object("quantization_config")) {
    c.fp8 = true;
    FieldReader s(*q, where + ": quantization_config");
    s.string("quant_method", c.quant_method);
    s.string("fmt", c.quant_fmt);
    s.string("scale_fmt", c.quant_scale_fmt);
    s.string("activation_scheme", c.quant_activation_scheme, false);
    s.int_array("weight_block_size", c.weight_block_size);
    if (!s.status().is_ok() && st.is_ok()) st = s.status();
  }
  if (!r.status().is_ok()) st = r.status();
  if (!st.is_ok()) return;
  if (!expert_dtype.empty() && expert_dtype != "fp4")
    st = Status::error("{}: field 'expert_dtype' must be \"fp4\" or absent, found \"{}\"", where, expert_dtype);
  c.fp4_experts = expert_dtype == "fp4";
}

Status validate(const ModelConfig& c, const std::string& w) {
  if (c.model_type != "deepseek_v4")
    return Status::error("{}: unsupported model_type '{}' (dsv4 runs 'deepseek_v4'; V4.1 is 'deepseek_v41')", w,
                         c.model_type);
  struct Positive { const char* name; int64_t v; };
  for (const Positive& p : {Positive{"vocab_size", c.vocab_size}, {"hidden_size", c.dim},
                            {"num_hidden_layers", c.n_layers}, {"num_attention_heads", c.n_heads},
                            {"head_dim", c.head_dim}, {"qk_rope_head_dim", c.rope_head_dim},
                            {"q_lora_rank", c.q_lora_rank}, {"o_groups", c.o_groups},
                            {"o_lora_rank", c.o_lora_rank}, {"sliding_window", c.window_size},
                            {"n_routed_experts", c.n_routed_experts}, {"num_experts_per_tok", c.n_activated_experts},
                            {"moe_intermediate_size", c.moe_inter_dim}, {"hc_mult", c.hc_mult},
                            {"hc_sinkhorn_iters", c.hc_sinkhorn_iters},
                            {"max_position_embeddings", c.max_position_embeddings}})
    if (p.v <= 0) return Status::error("{}: field '{}' must be positive, found {}", w, p.name, p.v);
  // Upper bounds far above any real model keep a hostile config from asking for absurd allocations.
  struct Bounded { const char* name; int64_t v, max; };
  for (const Bounded& b : {Bounded{"vocab_size", c.vocab_size, 1 << 24}, {"hidden_size", c.dim, 1 << 16},
                           {"num_hidden_layers", c.n_layers, 1024}, {"num_attention_heads", c.n_heads, 4096},
                           {"head_dim", c.head_dim, 1 << 14}, {"q_lora_rank", c.q_lora_rank, 1 << 16},
                           {"o_groups", c.o_groups, 1024}, {"o_lora_rank", c.o_lora_rank, 1 << 16},
                           {"sliding_window", c.window_size, 1 << 20}, {"n_routed_experts", c.n_routed_experts, 4096},
                           {"moe_intermediate_size", c.moe_inter_dim, 1 << 18}, {"hc_mult", c.hc_mult, 16},
                           {"hc_sinkhorn_iters", c.hc_sinkhorn_iters, 1000},
                           {"index_n_heads", c.index_n_heads, 4096}, {"index_head_dim", c.index_head_dim, 1 << 14},
                           {"index_topk", c.index_topk, 1 << 24},
                           {"max_position_embeddings", c.max_position_embeddings, int64_t(1) << 32}})
    if (b.v > b.max) return Status::error("{}: field '{}' = {} exceeds the supported maximum {}", w, b.name, b.v, b.max);
  if (c.n_kv_heads != 1)
    return Status::error("{}: num_key_value_heads must be 1 (V4 shares one KV head), found {}", w, c.n_kv_heads);
  if (c.n_shared_experts != 1)
    return Status::error("{}: n_shared_experts must be 1 (as in the reference), found {}", w, c.n_shared_experts);
  if (c.n_activated_experts > c.n_routed_experts)
    return Status::error("{}: num_experts_per_tok {} exceeds n_routed_experts {}", w, c.n_activated_experts,
                         c.n_routed_experts);
  if (c.n_hash_layers < 0 || c.n_hash_layers > c.n_layers)
    return Status::error("{}: num_hash_layers {} is outside [0, {}]", w, c.n_hash_layers, c.n_layers);
  if (c.score_func != "sqrtsoftplus")
    return Status::error("{}: unsupported scoring_func '{}' (DeepSeek-V4 uses 'sqrtsoftplus')", w, c.score_func);
  if (c.hidden_act != "silu")
    return Status::error("{}: unsupported hidden_act '{}' (expected 'silu')", w, c.hidden_act);
  if (c.tie_word_embeddings)
    return Status::error("{}: tie_word_embeddings must be false (V4 has a separate head.weight)", w);
  if (c.n_mtp_layers < 0 || c.n_mtp_layers > 1)
    return Status::error("{}: num_nextn_predict_layers {} is not supported (0 or 1; multi-stage draft heads "
                         "belong to V4-0731)", w, c.n_mtp_layers);
  if (int(c.compress_ratios.size()) != c.n_total_layers())
    return Status::error("{}: compress_ratios has {} entries, expected num_hidden_layers + "
                         "num_nextn_predict_layers = {}", w, c.compress_ratios.size(), c.n_total_layers());
  bool any_csa = false;
  for (size_t i = 0; i < c.compress_ratios.size(); ++i) {
    const int r = c.compress_ratios[i];
    if (r != 0 && r != 4 && r != 128)
      return Status::error("{}: compress_ratios[{}] = {}: only 0 (SWA), 4 (CSA) and 128 (HCA) are supported", w,
                           i, r);
    any_csa |= r == 4;
  }
  if (c.rope_head_dim % 2 || c.rope_head_dim >= c.head_dim)
    return Status::error("{}: qk_rope_head_dim {} must be even and below head_dim {}", w, c.rope_head_dim,
                         c.head_dim);
  if (c.nope_head_dim() % 64)
    return Status::error("{}: head_dim - qk_rope_head_dim = {} must be a multiple of 64 (KV FP8 blocks)", w,
                         c.nope_head_dim());
  if (c.n_heads % c.o_groups)
    return Status::error("{}: num_attention_heads {} is not divisible by o_groups {}", w, c.n_heads, c.o_groups);
  if (any_csa) {
    if (c.index_n_heads <= 0 || c.index_topk <= 0)
      return Status::error("{}: index_n_heads and index_topk must be positive for CSA layers", w);
    if (c.index_head_dim < c.rope_head_dim || (c.index_head_dim & (c.index_head_dim - 1)) ||
        c.index_head_dim % 32)
      return Status::error("{}: index_head_dim {} must be a power of two, a multiple of 32 and at least "
                           "qk_rope_head_dim", w, c.index_head_dim);
  }
  if (!(c.norm_eps > 0) || !(c.hc_eps >= 0))
    return Status::error("{}: rms_norm_eps must be positive and hc_eps non-negative", w);
  if (!(c.rope_theta > 0) || !(c.compress_rope_theta > 0))
    return Status::error("{}: rope_theta and compress_rope_theta must be positive", w);
  if (!c.rope_scaling_type.empty()) {
    if (c.rope_scaling_type != "yarn")
      return Status::error("{}: rope_scaling type '{}' is not supported (expected 'yarn')", w,
                           c.rope_scaling_type);
    if (!(c.rope_factor >= 1) || c.original_seq_len <= 0 || !(c.beta_fast > 0) || !(c.beta_slow > 0))
      return Status::error("{}: rope_scaling needs factor >= 1, a positive original_max_position_embeddings "
                           "and positive betas", w);
  }
  if (c.fp8) {
    if (c.quant_method != "fp8" || c.quant_fmt != "e4m3" || c.quant_scale_fmt != "ue8m0")
      return Status::error("{}: quantization_config must be fp8 / e4m3 / ue8m0, found {} / {} / {}", w,
                           c.quant_method, c.quant_fmt, c.quant_scale_fmt);
    if (c.weight_block_size != std::vector<int>{128, 128})
      return Status::error("{}: quantization_config.weight_block_size must be [128, 128]", w);
    struct Width { const char* name; int v; };
    for (const Width& x : {Width{"hidden_size", c.dim}, {"q_lora_rank", c.q_lora_rank},
                           {"o_groups * o_lora_rank", c.o_groups * c.o_lora_rank},
                           {"moe_intermediate_size", c.moe_inter_dim}})
      if (x.v % 128)
        return Status::error("{}: {} = {} must be a multiple of 128: FP8 activations are quantized in "
                             "128-wide blocks", w, x.name, x.v);
  }
  if (c.fp4_experts && !c.fp8)
    return Status::error("{}: expert_dtype 'fp4' needs a quantization_config (FP8 trunk)", w);
  return Status::ok();
}

}  // namespace

Result<ModelConfig> parse_model_config_json(const std::string& text, const std::string& label) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::error("{}: not well-formed JSON", label);
  if (!j.is_object()) return Status::error("{}: not a JSON object", label);
  ModelConfig c;
  Status st;
  read_fields(j, label, c, st);
  DSV4_RETURN_IF_ERROR(st);
  DSV4_RETURN_IF_ERROR(validate(c, label));
  return c;
}

Result<ModelConfig> load_model_config(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string file = fs::is_directory(path, ec) ? (fs::path(path) / "config.json").string() : path;
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::error("{}: cannot open", file);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_model_config_json(ss.str(), file);
}

}  // namespace dsv4
