#include "model/weights.h"

#include <fmt/format.h>

#include <cstring>
#include <map>

#include "base/float_formats.h"
#include "model/tensor_list.h"

namespace dsv4 {

namespace {

Status check_against_spec(const Checkpoint& ckpt, const ModelConfig& c) {
  const std::vector<TensorSpec> specs = expected_tensors(c);
  std::map<std::string, const TensorSpec*, std::less<>> by_name;
  for (const TensorSpec& s : specs) by_name.emplace(s.name, &s);
  for (const TensorSpec& s : specs) {
    const TensorView* t = ckpt.find(s.name);
    if (!t)
      return Status::error("{}: missing tensor '{}' (expected {} {})", ckpt.path(), s.name, dtype_name(s.dtype),
                           shape_str(s.shape));
    if (t->dtype != s.dtype || t->shape != s.shape) {
      std::string hint;
      if (s.name.find(".experts.") != std::string::npos && t->dtype == DType::kI8 && !c.fp4_experts)
        hint = " (FP4 experts: the config needs \"expert_dtype\": \"fp4\")";
      return Status::error("{}: tensor '{}' is {} {}, expected {} {}{}", ckpt.file_of(s.name), s.name,
                           dtype_name(t->dtype), shape_str(t->shape), dtype_name(s.dtype), shape_str(s.shape),
                           hint);
    }
  }
  for (const TensorView* t : ckpt.tensors())
    if (!by_name.count(t->name))
      return Status::error("{}: unexpected tensor '{}' ({} {}) for this config", ckpt.file_of(t->name), t->name,
                           dtype_name(t->dtype), shape_str(t->shape));
  return Status::ok();
}

class Binder {
 public:
  Binder(const Checkpoint& ckpt, const ModelConfig& c, ModelWeights& w) : ckpt_(ckpt), c_(c), w_(w) {}

  const TensorView& get(const std::string& name) const { return *ckpt_.find(name); }  // validated to exist

  // The tensor's data as T*, in place when aligned for T, else copied into owned storage.
  template <typename T>
  const T* aligned(const TensorView& t) {
    if (reinterpret_cast<uintptr_t>(t.data) % alignof(T) == 0) return reinterpret_cast<const T*>(t.data);
    auto copy = std::make_unique<float[]>(size_t(t.nbytes + 3) / 4);
    std::memcpy(copy.get(), t.data, size_t(t.nbytes));
    w_.copied_bytes += t.nbytes;
    w_.owned.push_back(std::move(copy));
    return reinterpret_cast<const T*>(w_.owned.back().get());
  }

  const float* f32(const std::string& name) { return aligned<float>(get(name)); }

  std::vector<float> floats(const std::string& name) {  // BF16 or F32 vector, widened to FP32
    const TensorView& t = get(name);
    std::vector<float> v(size_t(t.numel()));
    for (size_t i = 0; i < v.size(); ++i) {
      if (t.dtype == DType::kBF16) {
        uint16_t h;
        std::memcpy(&h, t.data + 2 * i, 2);
        v[i] = bf16_to_f32(h);
      } else {
        std::memcpy(&v[i], t.data + 4 * i, 4);
      }
    }
    return v;
  }

  // `prefix.weight` (+ `prefix.scale`) as a matrix; FP8/FP4 inputs are quantized unless told otherwise.
  WeightMatrix matrix(const std::string& prefix, bool quantize_fp8_input = true) {
    const TensorView& t = get(prefix + ".weight");
    WeightMatrix m;
    m.rows = t.dim(0);
    m.cols = t.dim(1);
    switch (t.dtype) {
      case DType::kF32: m.format = WeightFormat::kF32; m.data = aligned<float>(t); break;
      case DType::kBF16: m.format = WeightFormat::kBF16; m.data = aligned<uint16_t>(t); break;
      case DType::kF8E4M3: m.format = WeightFormat::kFP8; m.data = t.data; break;
      case DType::kI8: m.format = WeightFormat::kFP4; m.data = t.data; m.cols *= 2; break;
      default: break;  // excluded by check_against_spec
    }
    if (m.format == WeightFormat::kFP8 || m.format == WeightFormat::kFP4) {
      m.scale = get(prefix + ".scale").data;
      m.quantize_input = quantize_fp8_input;
    }
    return m;
  }

  // An F32 tensor [rows, cols] as a matrix (the mHC projections).
  WeightMatrix f32_matrix(const std::string& name) {
    const TensorView& t = get(name);
    WeightMatrix m;
    m.rows = t.dim(0);
    m.cols = t.dim(1);
    m.data = aligned<float>(t);
    return m;
  }

  HcWeights hc(const std::string& p, const char* site) {
    return {f32_matrix(fmt::format("{}hc_{}_fn", p, site)), f32(fmt::format("{}hc_{}_base", p, site)),
            f32(fmt::format("{}hc_{}_scale", p, site))};
  }
  HcHeadWeights hc_head(const std::string& p) {
    return {f32_matrix(p + "hc_head_fn"), f32(p + "hc_head_base"), f32(p + "hc_head_scale")};
  }

  CompressorWeights compressor(const std::string& p, int ratio, int d) {
    CompressorWeights cw;
    cw.ratio = ratio;
    cw.head_dim = d;
    cw.wkv = matrix(p + "wkv");
    cw.wgate = matrix(p + "wgate");
    cw.ape = f32(p + "ape");
    cw.norm = floats(p + "norm.weight");
    return cw;
  }

  Result<BlockWeights> block(const std::string& p, int layer) {
    BlockWeights b;
    b.layer = layer;
    b.attn_norm = floats(p + "attn_norm.weight");
    b.ffn_norm = floats(p + "ffn_norm.weight");
    b.hc_attn = hc(p, "attn");
    b.hc_ffn = hc(p, "ffn");
    const std::string a = p + "attn.";
    AttentionWeights& at = b.attn;
    at.sink = f32(a + "attn_sink");
    at.wq_a = matrix(a + "wq_a");
    at.q_norm = floats(a + "q_norm.weight");
    at.wq_b = matrix(a + "wq_b");
    at.wkv = matrix(a + "wkv");
    at.kv_norm = floats(a + "kv_norm.weight");
    at.wo_a = matrix(a + "wo_a", /*quantize_fp8_input=*/false);
    at.wo_b = matrix(a + "wo_b");
    const int ratio = c_.ratio(layer);
    if (ratio) at.compressor = compressor(a + "compressor.", ratio, c_.head_dim);
    if (ratio == 4) {
      at.indexer.wq_b = matrix(a + "indexer.wq_b");
      at.indexer.weights_proj = matrix(a + "indexer.weights_proj");
      at.indexer.compressor = compressor(a + "indexer.compressor.", 4, c_.index_head_dim);
    }
    const std::string f = p + "ffn.";
    MoeWeights& moe = b.ffn;
    moe.gate = matrix(f + "gate");
    if (c_.is_hash_layer(layer)) {
      const TensorView& t = get(f + "gate.tid2eid");
      moe.tid2eid.resize(size_t(t.numel()));
      for (size_t i = 0; i < moe.tid2eid.size(); ++i) {
        int64_t e;
        std::memcpy(&e, t.data + 8 * i, 8);
        if (e < 0 || e >= c_.n_routed_experts)
          return Status::error("{}: tensor '{}' routes token {} to expert {}, outside [0, {})",
                               ckpt_.file_of(t.name), t.name, i / size_t(c_.n_activated_experts), e,
                               c_.n_routed_experts);
        moe.tid2eid[i] = int32_t(e);
      }
      const size_t k = size_t(c_.n_activated_experts);
      for (size_t row = 0; row < moe.tid2eid.size(); row += k)
        for (size_t j = 1; j < k; ++j)
          for (size_t i = 0; i < j; ++i)
            if (moe.tid2eid[row + i] == moe.tid2eid[row + j])
              return Status::error("{}: tensor '{}' routes token {} to expert {} twice", ckpt_.file_of(t.name),
                                   t.name, row / k, moe.tid2eid[row + j]);
    } else {
      moe.bias = f32(f + "gate.bias");
    }
    for (int e = 0; e < c_.n_routed_experts; ++e) {
      const std::string x = fmt::format("{}experts.{}.", f, e);
      moe.experts.push_back({matrix(x + "w1"), matrix(x + "w2"), matrix(x + "w3")});
    }
    moe.shared = {matrix(f + "shared_experts.w1"), matrix(f + "shared_experts.w2"),
                  matrix(f + "shared_experts.w3")};
    return b;
  }

 private:
  const Checkpoint& ckpt_;
  const ModelConfig& c_;
  ModelWeights& w_;
};

}  // namespace

Result<ModelWeights> bind_weights(const Checkpoint& ckpt, const ModelConfig& c) {
  DSV4_RETURN_IF_ERROR(check_against_spec(ckpt, c));
  ModelWeights w;
  Binder b(ckpt, c, w);
  w.embed = b.aligned<uint16_t>(b.get("embed.weight"));
  w.head = b.matrix("head");
  w.norm = b.floats("norm.weight");
  w.hc_head = b.hc_head("");
  for (int i = 0; i < c.n_layers; ++i) {
    DSV4_ASSIGN_OR_RETURN(BlockWeights blk, b.block(fmt::format("layers.{}.", i), i));
    w.layers.push_back(std::move(blk));
  }
  for (int m = 0; m < c.n_mtp_layers; ++m) {
    const std::string p = fmt::format("mtp.{}.", m);
    MtpWeights mw;
    DSV4_ASSIGN_OR_RETURN(mw.block, b.block(p, c.n_layers + m));
    mw.e_proj = b.matrix(p + "e_proj");
    mw.h_proj = b.matrix(p + "h_proj");
    mw.enorm = b.floats(p + "enorm.weight");
    mw.hnorm = b.floats(p + "hnorm.weight");
    mw.norm = b.floats(p + "norm.weight");
    mw.hc_head = b.hc_head(p);
    w.mtp.push_back(std::move(mw));
  }
  return w;
}

}  // namespace dsv4
