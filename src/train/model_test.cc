// The whole training model: its parameters are the checkpoint's tensors (names, sizes, optimizer groups),
// an FP64 gradient check end to end (embedding → SWA block with hash MoE → CSA block → head, + MTP), and
// FP32 against FP64 on the same weights (training.md §5 item 3).
#include "train/model.h"

#include <gtest/gtest.h>

#include <map>

#include "train/grad_check.h"
#include "train/param_groups.h"

namespace dsv4::train {
namespace {

TEST(TrainModel, ParametersAreTheCheckpointTensorsLessTheFrozenOnes) {
  Result<ModelConfig> loaded = load_model_config(std::string(DSV4_SOURCE_DIR) + "/tests/data/golden/tiny-bf16/config.json");
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
  const ModelConfig& c = loaded.value();
  const ModelDims<float> m = model_dims<float>(c);
  ModelParams<float> p;
  p.resize(m);
  std::map<std::string, size_t> ours;
  p.for_each("", [&](const std::string& name, std::vector<float>& v) { ours[name] = v.size(); });
  std::map<std::string, TensorSpec> specs;
  for (const TensorSpec& s : expected_tensors(c)) specs[s.name] = s;
  size_t expected = 0;
  for (const auto& [name, s] : specs) {
    const ParamGroup g = param_group(s, c);
    const bool frozen = name.find(".indexer.") != std::string::npos;  // the frozen lightning indexer
    if (g.kind == OptimizerKind::kNone || g.kind == OptimizerKind::kBiasUpdate || frozen) {
      EXPECT_FALSE(ours.count(name)) << name;
      continue;
    }
    ++expected;
    ASSERT_TRUE(ours.count(name)) << "missing " << name;
    EXPECT_EQ(int64_t(ours[name]), s.parameters()) << name;
  }
  EXPECT_EQ(ours.size(), expected);  // and nothing the checkpoint does not have
}

ModelDims<double> tiny_dims() {
  ModelDims<double> m;
  m.vocab = 13;
  m.n_layers = 2;
  m.n_mtp = 1;
  m.n_hash_layers = 1;
  m.ratios = {0, 4, 0};
  m.block.hc.dim = 8;
  m.block.attn = {8, 2, 8, 4, 6, 2, 4, 4, 0, 1e-6};
  m.block.moe.dim = 8;
  m.block.moe.n_experts = 4;
  m.block.moe.top_k = 2;
  m.block.moe.inter = 6;
  m.block.moe.route_scale = 1.5;
  m.block.moe.swiglu_limit = 2.0;
  m.rope_swa = rope_frequencies({4, 10000, 0, 1, 32, 1});
  m.rope_compressed = rope_frequencies({4, 160000, 65536, 16, 32, 1});
  return m;
}

ModelParams<double> tiny_params(const ModelDims<double>& m, uint64_t seed) {
  std::mt19937_64 rng(seed);
  ModelParams<double> p;
  p.resize(m);
  randomize(p, rng, 0.5);
  for (int32_t v = 0; v < m.vocab; ++v) {  // hash table: two distinct experts per token
    p.tid2eid[0][size_t(2 * v)] = v % 4;
    p.tid2eid[0][size_t(2 * v + 1)] = (v + 1 + v / 4) % 4 == v % 4 ? (v + 2) % 4 : (v + 1 + v / 4) % 4;
  }
  return p;
}

const std::vector<int32_t> kIds = {1, 5, 2, 12, 7, 7, 3, 0, 9, 4, 11, 6};

std::vector<int32_t> next_tokens(const std::vector<int32_t>& ids) {
  std::vector<int32_t> t(ids.size());
  for (size_t i = 0; i + 1 < ids.size(); ++i) t[i] = ids[i + 1];
  t.back() = -1;
  return t;
}

TEST(TrainModel, GradientCheckEndToEnd) {
  ModelDims<double> m = tiny_dims();
  m.balance_alpha = 0.05;  // far above V4's 1e-4, so the balance terms weigh in the check
  ModelParams<double> p = tiny_params(m, 1), g;
  g.resize(m);
  const std::vector<int32_t> targets = next_tokens(kIds);
  const int64_t n = int64_t(kIds.size());
  ModelSaved<double> s;
  ModelInputs in;
  model_forward(m, p, kIds.data(), targets.data(), n, in, s);
  for (const auto& b : s.blocks) in.frozen_routing.push_back(b.moe.routing);
  for (const auto& k : s.mtp) in.frozen_routing.push_back(k.block.moe.routing);
  auto loss = [&] { return model_forward(m, p, kIds.data(), targets.data(), n, in, s); };
  const double l0 = loss();
  EXPECT_GT(l0, 0.0);
  EXPECT_EQ(s.blocks[0].balance_loss, 0.0);  // hash layer
  EXPECT_GT(s.blocks[1].balance_loss, 0.0);
  EXPECT_GT(s.mtp[0].block.balance_loss, 0.0);
  model_backward(m, p, kIds.data(), targets.data(), n, s, g);
  std::printf("  loss %.4f\n", l0);
  expect_passes(grad_check(loss, param_tensors(p, g), 4));
}

TEST(TrainModel, RouterLoadsAndBiasUpdate) {
  const ModelDims<double> m = tiny_dims();
  ModelParams<double> p = tiny_params(m, 3);
  const std::vector<int32_t> targets = next_tokens(kIds);
  const int64_t n = int64_t(kIds.size());
  ModelSaved<double> a, b;
  model_forward(m, p, kIds.data(), targets.data(), n, {}, a);
  model_forward(m, p, targets.data(), kIds.data(), n - 1, {}, b);  // a second, shorter sequence
  const std::vector<std::vector<int64_t>> loads = router_loads(m, {&a, &b});
  ASSERT_EQ(loads.size(), 3u);
  EXPECT_TRUE(loads[0].empty());  // hash layer
  for (int l : {1, 2}) {
    int64_t total = 0;
    for (int64_t x : loads[size_t(l)]) total += x;
    EXPECT_EQ(total, (2 * n - 1) * m.block.moe.top_k) << "layer " << l;
  }
  const std::vector<double> before = p.layers[1].ffn.bias;
  update_router_biases(m, p, loads, 0.001);
  const double mean = double((2 * n - 1) * m.block.moe.top_k) / m.block.moe.n_experts;
  for (int e = 0; e < m.block.moe.n_experts; ++e) {
    const double moved = p.layers[1].ffn.bias[size_t(e)] - before[size_t(e)];
    const double load = double(loads[1][size_t(e)]);
    EXPECT_DOUBLE_EQ(moved, load > mean ? -0.001 : load < mean ? 0.001 : 0.0) << "expert " << e;
  }
  EXPECT_TRUE(p.layers[0].ffn.bias.empty());
  std::printf("  MaxVio layer 1 %.3f, MTP %.3f\n", max_violation(loads[1]), max_violation(loads[2]));
}

template <typename To>
ModelParams<To> convert(ModelParams<double>& p, const ModelDims<To>& m) {
  ModelParams<To> out;
  out.resize(m);
  std::vector<std::vector<double>*> src;
  p.for_each("", [&](const std::string&, std::vector<double>& v) { src.push_back(&v); });
  size_t i = 0;
  out.for_each("", [&](const std::string&, std::vector<To>& v) {
    const std::vector<double>& s = *src[i++];
    for (size_t j = 0; j < v.size(); ++j) v[j] = To(s[j]);
  });
  out.tid2eid = p.tid2eid;
  return out;
}

ModelDims<float> to_float(const ModelDims<double>& d) {
  ModelDims<float> f;
  f.vocab = d.vocab;
  f.n_layers = d.n_layers;
  f.n_mtp = d.n_mtp;
  f.n_hash_layers = d.n_hash_layers;
  f.ratios = d.ratios;
  f.block.hc = {d.block.hc.hc, d.block.hc.dim, d.block.hc.iters, float(d.block.hc.hc_eps), float(d.block.hc.norm_eps)};
  f.block.attn = d.block.attn;
  f.block.moe = d.block.moe;
  f.mtp_weight = float(d.mtp_weight);
  f.rope_swa = d.rope_swa;
  f.rope_compressed = d.rope_compressed;
  return f;
}

TEST(TrainModel, Fp32MatchesFp64) {
  const ModelDims<double> md = tiny_dims();
  const ModelDims<float> mf = to_float(md);
  ModelParams<double> pd = tiny_params(md, 2), gd;
  ModelParams<float> pf = convert(pd, mf), gf;
  gd.resize(md);
  gf.resize(mf);
  const std::vector<int32_t> targets = next_tokens(kIds);
  const int64_t n = int64_t(kIds.size());
  ModelSaved<double> sd;
  ModelSaved<float> sf;
  const double ld = model_forward(md, pd, kIds.data(), targets.data(), n, {}, sd);
  const float lf = model_forward(mf, pf, kIds.data(), targets.data(), n, {}, sf);
  for (size_t l = 0; l < sd.blocks.size(); ++l) ASSERT_EQ(sd.blocks[l].moe.routing.ids, sf.blocks[l].moe.routing.ids);
  EXPECT_NEAR(lf, ld, 1e-5 * std::fabs(ld));
  model_backward(md, pd, kIds.data(), targets.data(), n, sd, gd);
  model_backward(mf, pf, kIds.data(), targets.data(), n, sf, gf);
  std::vector<std::vector<double>*> a;
  gd.for_each("", [&](const std::string&, std::vector<double>& v) { a.push_back(&v); });
  size_t i = 0;
  double worst = 0;
  std::string worst_name;
  gf.for_each("", [&](const std::string& name, std::vector<float>& v) {
    const std::vector<double>& d = *a[i++];
    double scale = 0, diff = 0;
    for (size_t j = 0; j < v.size(); ++j) {
      scale = std::max(scale, std::fabs(d[j]));
      diff = std::max(diff, std::fabs(double(v[j]) - d[j]));
    }
    const double rel = diff / std::max(scale, 1e-12);
    if (scale > 0 && rel > worst) {
      worst = rel;
      worst_name = name;
    }
  });
  std::printf("  loss fp32 %.7f fp64 %.7f; worst gradient tensor %s, max |Δ| / max |g| = %.3g\n", lf, ld,
              worst_name.c_str(), worst);
  EXPECT_LT(worst, 1e-4) << worst_name;
}

}  // namespace
}  // namespace dsv4::train
