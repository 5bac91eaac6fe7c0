// The training forward against the inference engine on the golden tiny-bf16 model (4 layers: SWA + hash
// MoE, CSA, HCA, CSA; an MTP block): the same checkpoint, the same 260-token prompt, and the engine's own
// discrete decisions (indexer picks, expert ids) fed to the training model as its frozen indexer and
// frozen routing. Gradient checks only prove a backward matches its forward; this proves the forward is
// V4's (stream orientation, Sinkhorn order, compressor overlap and ape phase, sink, grouped output, ...).
//
// The engine keeps the model's FP8 rounding of the non-RoPE KV dims; the training model adds the same
// rounding here (AttentionDims::fp8_kv, forward only). The indexer's FP4 path only decides picks, which
// come from the engine. What is left is FP32 summation order, amplified where an FP8 code flips.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "base/float_formats.h"
#include "model/model.h"
#include "test_util.h"
#include "train/model.h"

namespace dsv4 {
namespace {

class Recorder : public DecisionHook {
 public:
  void indexer(int layer, int64_t pos, std::span<const float>, std::vector<int32_t>& picks) override {
    auto& rows = picks_[layer];
    rows.resize(size_t(pos + 1));
    rows[size_t(pos)] = picks;
  }
  void experts(int layer, int64_t pos, std::span<int32_t> ids) override {
    auto& r = experts_[layer];
    r.resize(size_t((pos + 1) * int64_t(ids.size())));
    std::copy(ids.begin(), ids.end(), r.begin() + pos * int64_t(ids.size()));
  }
  std::map<int, std::vector<std::vector<int32_t>>> picks_;
  std::map<int, std::vector<int32_t>> experts_;
};

std::vector<float> to_float(const TensorView& v) {
  std::vector<float> out(size_t(v.numel()));
  for (size_t i = 0; i < out.size(); ++i) {
    if (v.dtype == DType::kBF16) {
      uint16_t h;
      std::memcpy(&h, v.data + 2 * i, 2);
      out[i] = bf16_to_f32(h);
    } else {
      EXPECT_EQ(v.dtype, DType::kF32) << v.name;
      std::memcpy(&out[i], v.data + 4 * i, 4);
    }
  }
  return out;
}

struct Compared {
  double max_rel = 0;  // max |Δ| / max |reference|
  double rms_rel = 0;  // rms(Δ) / rms(reference)
};

Compared compare(const float* got, const float* ref, size_t n) {
  double mx = 0, md = 0, sd = 0, sr = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = double(got[i]) - ref[i];
    mx = std::max(mx, std::fabs(double(ref[i])));
    md = std::max(md, std::fabs(d));
    sd += d * d;
    sr += double(ref[i]) * ref[i];
  }
  return {md / mx, std::sqrt(sd / sr)};
}

void run(bool fp8_kv, Compared* main_out, Compared* mtp_out) {
  const std::string dir = testing::golden_case("tiny-bf16");
  Result<std::unique_ptr<Model>> loaded = Model::load(dir);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
  Model& engine = *loaded.value();
  const ModelConfig& c = engine.config();
  const nlohmann::json inputs = testing::read_json(dir + "/inputs.json");
  std::vector<int32_t> ids = inputs["prompt_ids"].get<std::vector<int32_t>>();
  ids.resize(261);  // two complete ratio-128 entries; 65 ratio-4 entries, more than index_topk = 16
  const int64_t n = int64_t(ids.size()) - 1;  // the last id is only the MTP's next token
  const int64_t V = c.vocab_size;

  // Engine: logits of every position, the last block's streams, MTP logits; decisions recorded.
  Recorder rec;
  KvCache cache = engine.new_cache(n);
  std::vector<float> x(size_t(n * c.hc_dim())), logits(size_t(n * V)), mtp_logits(size_t(n * V));
  engine.embed(ids.data(), n, x.data());
  engine.forward_blocks(ids.data(), n, 0, cache, x.data(), &rec);
  engine.logits(x.data(), n, logits.data());
  engine.mtp_logits(0, x.data(), ids.data() + 1, n, 0, cache, mtp_logits.data(), &rec);

  // Training model on the same weights, with the engine's decisions frozen in.
  train::ModelDims<float> dims = train::model_dims<float>(c);
  dims.block.attn.fp8_kv = fp8_kv;
  train::ModelParams<float> p;
  p.resize(dims);
  p.for_each("", [&](const std::string& name, std::vector<float>& v) {
    const TensorView* t = engine.checkpoint().find(name);
    ASSERT_NE(t, nullptr) << name;
    v = to_float(*t);
  });
  for (int l = 0; l < c.n_total_layers(); ++l) {
    train::MoeParams<float>& ffn = l < c.n_layers ? p.layers[size_t(l)].ffn : p.mtp[size_t(l - c.n_layers)].block.ffn;
    const std::string prefix = l < c.n_layers ? fmt::format("layers.{}.", l) : fmt::format("mtp.{}.", l - c.n_layers);
    if (c.is_hash_layer(l)) {
      const TensorView* t = engine.checkpoint().find(prefix + "ffn.gate.tid2eid");
      ASSERT_NE(t, nullptr);
      for (int64_t i = 0; i < t->numel(); ++i) {
        int64_t v;
        std::memcpy(&v, t->data + 8 * i, 8);
        p.tid2eid[size_t(l)][size_t(i)] = int32_t(v);
      }
    } else {
      ffn.bias = to_float(*engine.checkpoint().find(prefix + "ffn.gate.bias"));
    }
  }
  train::ModelInputs in;
  in.frozen_routing.resize(size_t(c.n_total_layers()));
  in.attention.resize(size_t(c.n_total_layers()));
  int picked_layers = 0;
  for (int l = 0; l < c.n_total_layers(); ++l) {
    in.frozen_routing[size_t(l)].ids = rec.experts_[l];
    ASSERT_EQ(int64_t(rec.experts_[l].size()), n * c.n_activated_experts) << "layer " << l;
    if (c.ratio(l) == 4) {
      in.attention[size_t(l)].picks = rec.picks_[l];
      ASSERT_EQ(int64_t(rec.picks_[l].size()), n);
      EXPECT_EQ(rec.picks_[l].back().size(), size_t(c.index_topk));  // a real selection, not all entries
      ++picked_layers;
    }
  }
  EXPECT_EQ(picked_layers, 2);
  std::vector<int32_t> targets(ids.begin() + 1, ids.end());
  train::ModelSaved<float> s;
  train::model_forward(dims, p, ids.data(), targets.data(), n, in, s);

  const Compared main = *main_out = compare(s.logits.data(), logits.data(), logits.size());
  *mtp_out = compare(s.mtp[0].logits.data(), mtp_logits.data(), mtp_logits.size());
  std::printf("  fp8_kv %d: logits max %.3g, rms %.3g; MTP logits max %.3g, rms %.3g (relative to the engine's)\n",
              int(fp8_kv), main.max_rel, main.rms_rel, mtp_out->max_rel, mtp_out->rms_rel);
}

TEST(TrainEngineParity, LogitsAndMtpLogitsOnTheGoldenTinyModel) {
  Compared main, mtp;
  run(/*fp8_kv=*/true, &main, &mtp);
  // Measured: rms 3.4e-5 / 2.2e-4 (main / MTP), max 1.6e-4 / 1.3e-3 — FP8 codes that flip on a tie
  // under a different summation order. Without the FP8 simulation: rms 2.2e-2.
  EXPECT_LT(main.rms_rel, 1e-3);
  EXPECT_LT(mtp.rms_rel, 1e-3);
  EXPECT_LT(main.max_rel, 1e-2);
  EXPECT_LT(mtp.max_rel, 1e-2);
}

}  // namespace
}  // namespace dsv4
