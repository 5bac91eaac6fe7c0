// dsv4 inspect: what a config (or a checkpoint) amounts to — layer schedule, parameters, bytes, KV cache.
#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <vector>

#include "commands.h"
#include "model/config.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "model/tensor_list.h"

namespace dsv4 {

namespace {

// "0-2", "2, 4, …, 42" or "0, 1, 3, …, 59": maximal evenly spaced runs of 3 or more are abbreviated.
std::string layer_list(const std::vector<int>& v) {
  std::string out;
  size_t i = 0;
  while (i < v.size()) {
    size_t j = i + 1;
    if (j < v.size()) {
      const int step = v[j] - v[i];
      while (j + 1 < v.size() && v[j + 1] - v[j] == step) ++j;
      if (j - i >= 2) {
        if (!out.empty()) out += ", ";
        out += step == 1 ? fmt::format("{}-{}", v[i], v[j]) : fmt::format("{}, {}, …, {}", v[i], v[i] + step, v[j]);
        i = j + 1;
        continue;
      }
    }
    if (!out.empty()) out += ", ";
    out += std::to_string(v[i]);
    ++i;
  }
  return out.empty() ? "-" : out;
}

std::string with_commas(int64_t n) {
  std::string s = std::to_string(n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, ++u;
  return fmt::format("{:.2f} {}", b, units[u]);
}

void print_schedule(const ModelConfig& c) {
  fmt::print("layer schedule ({} main layers + {} MTP)\n", c.n_layers, c.n_mtp_layers);
  for (AttnKind k : {AttnKind::kSWA, AttnKind::kCSA, AttnKind::kHCA}) {
    std::vector<int> layers;
    for (int i = 0; i < c.n_layers; ++i)
      if (c.attn_kind(i) == k) layers.push_back(i);
    const int ratio = k == AttnKind::kSWA ? 0 : k == AttnKind::kCSA ? 4 : 128;
    fmt::print("  {}  ratio {:<3}  {:2} layers  {}\n", attn_kind_name(k), ratio, layers.size(), layer_list(layers));
  }
  std::vector<int> hash;
  for (int i = 0; i < c.n_hash_layers; ++i) hash.push_back(i);
  fmt::print("  hash-routed MoE: {}\n", layer_list(hash));
  for (int m = 0; m < c.n_mtp_layers; ++m) fmt::print("  MTP block {}: {}\n", m, attn_kind_name(c.attn_kind(c.n_layers + m)));
  std::string per_layer;
  for (int i = 0; i < c.n_layers; ++i)
    per_layer += fmt::format("{}{}:{}{}", i ? " " : "", i, attn_kind_name(c.attn_kind(i)), c.is_hash_layer(i) ? "*" : "");
  fmt::print("  by layer (* = hash routing): {}\n", per_layer);
}

void print_parameters(const ModelConfig& c, const std::vector<TensorSpec>& specs) {
  double total = 0, mtp = 0, experts = 0, embedding = 0;
  for (const TensorSpec& s : specs) {
    const double p = double(s.parameters());
    if (s.mtp) {
      mtp += p;
      continue;
    }
    total += p;
    if (s.role == TensorRole::kRoutedExpert) experts += p;
    if (s.role == TensorRole::kEmbedding) embedding += p;
  }
  const double active = total - experts + experts * c.n_activated_experts / c.n_routed_experts;
  const bool billions = total >= 1e9;  // V4-Flash/Pro in B, small trained models in M
  const double unit = billions ? 1e9 : 1e6;
  const char* u = billions ? "B" : "M";
  fmt::print("parameters   total {:.1f} {} without MTP (MTP block {:.2f} {}, {:.1f} {} in all)\n", total / unit, u,
             mtp / unit, u, (total + mtp) / unit, u);
  fmt::print("             active per token {:.1f} {} excluding the embedding, {:.1f} {} including it\n",
             (active - embedding) / unit, u, active / unit, u);
}

void print_bytes(const std::vector<TensorSpec>& specs) {
  std::map<std::string, std::pair<int64_t, int64_t>> by_dtype;  // name -> (tensors, bytes)
  int64_t bytes = 0, count = 0, main_count = 0;
  for (const TensorSpec& s : specs) {
    std::string name(dtype_name(s.dtype));
    if (s.packed_fp4) name += " (FP4)";
    by_dtype[name].first++;
    by_dtype[name].second += s.stored_bytes();
    bytes += s.stored_bytes();
    ++count;
    main_count += !s.mtp;
  }
  fmt::print("tensors      {} ({} without MTP), {} bytes ({})\n", with_commas(count), with_commas(main_count),
             with_commas(bytes), human_bytes(double(bytes)));
  fmt::print("bytes by dtype\n");
  for (const auto& [name, v] : by_dtype)
    fmt::print("  {:<14} {:>7} tensors  {:>19} bytes  {:>11}\n", name, with_commas(v.first), with_commas(v.second),
               human_bytes(double(v.second)));
}

void print_kv(const ModelConfig& c, int64_t ctx) {
  // Per-token bytes amortize the compressed entries; rings and compressor states are per sequence.
  const auto line = [&](const char* label, KvFormat format) {
    const KvFootprint f = kv_footprint(c, ctx, format);
    const int64_t per_seq = kv_footprint(c, 0, format).total();
    fmt::print("  {:<28} {:>8.1f} B/token + {} per sequence; at {} tokens: {} ({} bytes)\n", label,
               kv_bytes_per_token(c, format), human_bytes(double(per_seq)), with_commas(ctx),
               human_bytes(double(f.total())), with_commas(f.total()));
    fmt::print("  {:<28} window rings {}, compressed entries {}, indexer keys {}, compressor state {}\n", "",
               human_bytes(double(f.window)), human_bytes(double(f.entries)), human_bytes(double(f.index_keys)),
               human_bytes(double(f.compressor_state)));
  };
  fmt::print("KV cache (one sequence, context {} tokens; `dsv4 kv` for the full report)\n", with_commas(ctx));
  line("BF16 (reference layout)", KvFormat{KvElem::kBF16, KvElem::kBF16});
  line("FP8+BF16 RoPE, FP4 indexer", KvFormat{KvElem::kFp8, KvElem::kFp4});
  line("FP32 (this engine's default)", KvFormat{});
}

}  // namespace

int run_inspect(const InspectOptions& o) {
  namespace fs = std::filesystem;
  const auto config = load_model_config(o.path);
  if (!config) {
    fmt::print(stderr, "dsv4 inspect: {}\n", config.status().message());
    return 1;
  }
  const ModelConfig& c = config.value();
  std::error_code ec;
  const bool has_weights = fs::is_directory(o.path, ec) &&
                           (fs::exists(fs::path(o.path) / "model.safetensors", ec) ||
                            fs::exists(fs::path(o.path) / "model.safetensors.index.json", ec));
  int64_t file_bytes = 0;
  if (has_weights) {  // a checkpoint: load it, which validates every tensor against the config
    auto model = Model::load(o.path);
    if (!model) {
      fmt::print(stderr, "dsv4 inspect: {}\n", model.status().message());
      return 1;
    }
    file_bytes = int64_t(model.value()->checkpoint().file_bytes());
  }

  fmt::print("model        {} ({}): dim {}, {} layers + {} MTP, {} heads × {} (rope {}), vocab {}\n",
             c.model_type, o.path, c.dim, c.n_layers, c.n_mtp_layers, c.n_heads, c.head_dim, c.rope_head_dim,
             c.vocab_size);
  fmt::print("attention    q_lora {}, {} output groups × rank {}, window {}, indexer {} heads × {} top-{}\n",
             c.q_lora_rank, c.o_groups, c.o_lora_rank, c.window_size, c.index_n_heads, c.index_head_dim,
             c.index_topk);
  fmt::print("moe          {} routed experts (top {}, {} hash layers) + {} shared, inter {}, route scale {}\n",
             c.n_routed_experts, c.n_activated_experts, c.n_hash_layers, c.n_shared_experts, c.moe_inter_dim,
             c.route_scale);
  fmt::print("weights      {} trunk, {} routed experts\n", c.fp8 ? "FP8 (128×128 E8M0 scales)" : "BF16",
             c.fp4_experts ? "FP4 (1×32 E8M0 scales)" : c.fp8 ? "FP8" : "BF16");
  print_schedule(c);
  const std::vector<TensorSpec> specs = expected_tensors(c);
  print_parameters(c, specs);
  print_bytes(specs);
  if (has_weights) fmt::print("checkpoint   validated: {} bytes in files\n", with_commas(file_bytes));
  print_kv(c, o.ctx > 0 ? o.ctx : c.max_position_embeddings);
  return 0;
}

}  // namespace dsv4
