// The training pieces together: a small V4-shaped model (SWA + hash MoE, CSA, HCA, CSA, MTP) learns a
// repeating token pattern with Muon on its matrices and AdamW on the rest.
#include "train/model_optimizer.h"

#include <gtest/gtest.h>

#include <random>

namespace dsv4::train {
namespace {

ModelConfig small_config() {
  Result<ModelConfig> loaded = load_model_config(std::string(DSV4_SOURCE_DIR) + "/tests/data/golden/tiny-bf16/config.json");
  EXPECT_TRUE(loaded.is_ok());
  ModelConfig c = loaded.value();  // ratios 0, 4, 128, 4 + MTP 0; one hash layer
  c.vocab_size = 32;
  c.dim = 32;
  c.n_heads = 2;
  c.head_dim = 16;
  c.rope_head_dim = 8;
  c.q_lora_rank = 16;
  c.o_groups = 2;
  c.o_lora_rank = 8;
  c.window_size = 8;
  c.moe_inter_dim = 16;
  c.index_head_dim = 16;
  return c;
}

TEST(ModelOptimizer, LearnsARepeatingSequence) {
  const ModelConfig c = small_config();
  const ModelDims<float> dims = model_dims<float>(c);
  ModelParams<float> p, g;
  p.resize(dims);
  std::mt19937_64 rng(1);
  p.for_each("", [&](const std::string& name, std::vector<float>& v) {
    const bool norm = name.find("norm.weight") != std::string::npos;
    const bool gain_or_bias = name.find("_base") != std::string::npos || name.find("attn_sink") != std::string::npos ||
                              name.find(".ape") != std::string::npos;
    if (norm) return std::fill(v.begin(), v.end(), 1.0f);
    if (name.find("_scale") != std::string::npos) return std::fill(v.begin(), v.end(), 0.01f);  // mHC α
    if (gain_or_bias) return std::fill(v.begin(), v.end(), 0.0f);
    std::normal_distribution<float> nd(0.0f, name.find("embed") != std::string::npos ? 1.0f : 0.5f / std::sqrt(32.0f));
    for (float& x : v) x = nd(rng);
  });
  for (int32_t t = 0; t < c.vocab_size; ++t)
    for (int j = 0; j < c.n_activated_experts; ++j)
      p.tid2eid[0][size_t(t * c.n_activated_experts + j)] = (t + j * 3) % c.n_routed_experts;

  ModelOptimizer opt(c, p);
  int muon = 0, adamw = 0;
  for (const auto& [name, kind] : opt.assignment()) (kind == OptimizerKind::kMuon ? muon : adamw)++;
  EXPECT_GT(muon, 0);
  EXPECT_GT(adamw, 0);

  std::vector<int32_t> ids(24);
  for (size_t t = 0; t < ids.size(); ++t) ids[t] = int32_t((t * 5) % 11);  // period 11
  std::vector<int32_t> targets(ids.begin() + 1, ids.end());
  targets.push_back(-1);
  const int64_t n = int64_t(ids.size());
  ModelSaved<float> s;
  float first = 0, last = 0;
  for (int step = 0; step < 25; ++step) {
    g.resize(dims);
    const float loss = model_forward(dims, p, ids.data(), targets.data(), n, {}, s);
    model_backward(dims, p, ids.data(), targets.data(), n, s, g);
    opt.step(p, g, 0.02f);
    if (step == 0) first = loss;
    last = loss;
  }
  std::printf("  loss %.3f -> %.3f over 25 steps\n", first, last);
  EXPECT_GT(first, 0.8f * 1.3f * std::log(32.0f));  // near uniform at the start: (1 + λ)·ln V
  EXPECT_LT(last, 0.1f * first);
}

}  // namespace
}  // namespace dsv4::train
