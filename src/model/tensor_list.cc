#include "model/tensor_list.h"

#include <fmt/format.h>

namespace dsv4 {

int64_t TensorSpec::stored_bytes() const { return shape_numel(shape).value_or(0) * dtype_size(dtype); }

int64_t TensorSpec::parameters() const {
  if (role == TensorRole::kScale || role == TensorRole::kIndex) return 0;
  return shape_numel(shape).value_or(0) * (packed_fp4 ? 2 : 1);
}

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

enum class LinearKind { kTrunk, kExpert };  // FP8 trunk linear, or routed expert (FP4 when configured)

class ListBuilder {
 public:
  explicit ListBuilder(const ModelConfig& c) : c_(c) {}

  void add(std::string name, DType dtype, Shape shape, TensorRole role = TensorRole::kOther) {
    out_.push_back(TensorSpec{std::move(name), dtype, std::move(shape), role, layer_, false, mtp_});
  }

  void linear(const std::string& name, int64_t out, int64_t in, LinearKind kind = LinearKind::kTrunk) {
    const TensorRole role = kind == LinearKind::kExpert ? TensorRole::kRoutedExpert : TensorRole::kOther;
    if (kind == LinearKind::kExpert && c_.fp4_experts) {
      add(name + ".weight", DType::kI8, {out, in / 2}, role);
      out_.back().packed_fp4 = true;
      add(name + ".scale", DType::kF8E8M0, {out, in / 32}, TensorRole::kScale);
    } else if (c_.fp8) {
      add(name + ".weight", DType::kF8E4M3, {out, in}, role);
      add(name + ".scale", DType::kF8E8M0, {ceil_div(out, 128), ceil_div(in, 128)}, TensorRole::kScale);
    } else {
      add(name + ".weight", DType::kBF16, {out, in}, role);
    }
  }

  void compressor(const std::string& p, int ratio, int64_t d) {
    const int64_t coff = ratio == 4 ? 2 : 1;
    add(p + "ape", DType::kF32, {ratio, coff * d});
    add(p + "wkv.weight", DType::kBF16, {coff * d, c_.dim});
    add(p + "wgate.weight", DType::kBF16, {coff * d, c_.dim});
    add(p + "norm.weight", DType::kBF16, {d});
  }

  void block(const std::string& p, int layer) {
    layer_ = layer;
    const int64_t D = c_.dim, mix = c_.hc_mix(), hcd = c_.hc_dim();
    add(p + "attn_norm.weight", DType::kBF16, {D});
    add(p + "ffn_norm.weight", DType::kBF16, {D});
    for (const char* site : {"attn", "ffn"}) {
      add(fmt::format("{}hc_{}_fn", p, site), DType::kF32, {mix, hcd});
      add(fmt::format("{}hc_{}_base", p, site), DType::kF32, {mix});
      add(fmt::format("{}hc_{}_scale", p, site), DType::kF32, {3});
    }
    const std::string a = p + "attn.";
    const int64_t H = c_.n_heads, hd = c_.head_dim, G = c_.o_groups, R = c_.o_lora_rank;
    add(a + "attn_sink", DType::kF32, {H});
    linear(a + "wq_a", c_.q_lora_rank, D);
    add(a + "q_norm.weight", DType::kBF16, {c_.q_lora_rank});
    linear(a + "wq_b", H * hd, c_.q_lora_rank);
    linear(a + "wkv", hd, D);
    add(a + "kv_norm.weight", DType::kBF16, {hd});
    linear(a + "wo_a", G * R, H * hd / G);
    linear(a + "wo_b", D, G * R);
    const int ratio = c_.ratio(layer);
    if (ratio) compressor(a + "compressor.", ratio, hd);
    if (ratio == 4) {
      const std::string ix = a + "indexer.";
      linear(ix + "wq_b", int64_t(c_.index_n_heads) * c_.index_head_dim, c_.q_lora_rank);
      add(ix + "weights_proj.weight", DType::kBF16, {c_.index_n_heads, D});
      compressor(ix + "compressor.", 4, c_.index_head_dim);
    }
    const std::string f = p + "ffn.";
    add(f + "gate.weight", DType::kBF16, {c_.n_routed_experts, D});
    if (c_.is_hash_layer(layer))
      add(f + "gate.tid2eid", DType::kI64, {c_.vocab_size, c_.n_activated_experts}, TensorRole::kIndex);
    else
      add(f + "gate.bias", DType::kF32, {c_.n_routed_experts});
    const int64_t I = c_.moe_inter_dim;
    for (int e = 0; e < c_.n_routed_experts; ++e) {
      const std::string x = fmt::format("{}experts.{}.", f, e);
      linear(x + "w1", I, D, LinearKind::kExpert);
      linear(x + "w2", D, I, LinearKind::kExpert);
      linear(x + "w3", I, D, LinearKind::kExpert);
    }
    linear(f + "shared_experts.w1", I, D);
    linear(f + "shared_experts.w2", D, I);
    linear(f + "shared_experts.w3", I, D);
  }

  void hc_head(const std::string& p) {
    add(p + "hc_head_fn", DType::kF32, {c_.hc_mult, c_.hc_dim()});
    add(p + "hc_head_base", DType::kF32, {c_.hc_mult});
    add(p + "hc_head_scale", DType::kF32, {1});
  }

  std::vector<TensorSpec> build() {
    const int64_t V = c_.vocab_size, D = c_.dim;
    add("embed.weight", DType::kBF16, {V, D}, TensorRole::kEmbedding);
    add("head.weight", DType::kBF16, {V, D});
    add("norm.weight", DType::kBF16, {D});
    hc_head("");
    for (int i = 0; i < c_.n_layers; ++i) block(fmt::format("layers.{}.", i), i);
    mtp_ = true;
    for (int m = 0; m < c_.n_mtp_layers; ++m) {
      const std::string p = fmt::format("mtp.{}.", m);
      block(p, c_.n_layers + m);
      linear(p + "e_proj", D, D);
      linear(p + "h_proj", D, D);
      for (const char* n : {"enorm", "hnorm", "norm"}) add(p + n + ".weight", DType::kBF16, {D});
      hc_head(p);
    }
    return std::move(out_);
  }

 private:
  const ModelConfig& c_;
  std::vector<TensorSpec> out_;
  int layer_ = -1;
  bool mtp_ = false;
};

}  // namespace

std::vector<TensorSpec> expected_tensors(const ModelConfig& c) { return ListBuilder(c).build(); }

}  // namespace dsv4
