// The parameter → optimizer table (training.md §1.4, §1.7 item 7), checked name by name on a tiny config
// with all three attention kinds, a hash layer and an MTP block, and on an FP8/FP4 config.
#include "train/param_groups.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "model/config.h"

namespace dsv4 {
namespace {

ModelConfig load(const std::string& rel) {
  Result<ModelConfig> c = load_model_config(std::string(DSV4_SOURCE_DIR) + "/" + rel);
  EXPECT_TRUE(c.is_ok()) << c.status().message();
  return c.value();
}

std::map<std::string, ParamGroup> groups(const ModelConfig& c) {
  std::map<std::string, ParamGroup> out;
  for (const TensorSpec& s : expected_tensors(c)) out[s.name] = param_group(s, c);
  return out;
}

TEST(ParamGroups, EveryTensorLandsInItsOptimizer) {
  const ModelConfig c = load("tests/data/golden/tiny-bf16/config.json");  // ratios 0,4,128,4 + MTP 0
  const std::map<std::string, ParamGroup> g = groups(c);
  const OptimizerKind A = OptimizerKind::kAdamW, M = OptimizerKind::kMuon, B = OptimizerKind::kBiasUpdate,
                      N = OptimizerKind::kNone;
  const std::map<std::string, OptimizerKind> expected = {
      {"embed.weight", A}, {"head.weight", A}, {"norm.weight", A},
      {"hc_head_fn", M}, {"hc_head_base", A}, {"hc_head_scale", A},
      {"layers.0.attn_norm.weight", A}, {"layers.0.ffn_norm.weight", A},
      {"layers.0.hc_attn_fn", M}, {"layers.0.hc_attn_base", A}, {"layers.0.hc_attn_scale", A},
      {"layers.0.hc_ffn_fn", M}, {"layers.0.hc_ffn_base", A}, {"layers.0.hc_ffn_scale", A},
      {"layers.0.attn.attn_sink", A}, {"layers.0.attn.q_norm.weight", A}, {"layers.0.attn.kv_norm.weight", A},
      {"layers.0.attn.wq_a.weight", M}, {"layers.0.attn.wq_b.weight", M}, {"layers.0.attn.wkv.weight", M},
      {"layers.0.attn.wo_a.weight", M}, {"layers.0.attn.wo_b.weight", M},
      {"layers.0.ffn.gate.weight", M}, {"layers.0.ffn.gate.tid2eid", N},
      {"layers.0.ffn.experts.0.w1.weight", M}, {"layers.0.ffn.experts.7.w2.weight", M},
      {"layers.0.ffn.experts.3.w3.weight", M}, {"layers.0.ffn.shared_experts.w1.weight", M},
      {"layers.0.ffn.shared_experts.w2.weight", M}, {"layers.0.ffn.shared_experts.w3.weight", M},
      {"layers.1.ffn.gate.bias", B},
      {"layers.1.attn.compressor.ape", A}, {"layers.1.attn.compressor.norm.weight", A},
      {"layers.1.attn.compressor.wkv.weight", M}, {"layers.1.attn.compressor.wgate.weight", M},
      {"layers.1.attn.indexer.wq_b.weight", M}, {"layers.1.attn.indexer.weights_proj.weight", M},
      {"layers.1.attn.indexer.compressor.ape", A}, {"layers.1.attn.indexer.compressor.norm.weight", A},
      {"layers.1.attn.indexer.compressor.wkv.weight", M}, {"layers.2.attn.compressor.ape", A},
      {"mtp.0.e_proj.weight", M}, {"mtp.0.h_proj.weight", M}, {"mtp.0.enorm.weight", A},
      {"mtp.0.hnorm.weight", A}, {"mtp.0.norm.weight", A}, {"mtp.0.hc_head_fn", M},
      {"mtp.0.hc_head_base", A}, {"mtp.0.hc_head_scale", A}, {"mtp.0.ffn.gate.bias", B},
      {"mtp.0.attn.attn_sink", A}, {"mtp.0.hc_attn_fn", M},
  };
  for (const auto& [name, kind] : expected) {
    ASSERT_TRUE(g.count(name)) << name;
    EXPECT_EQ(optimizer_kind_name(g.at(name).kind), std::string(optimizer_kind_name(kind))) << name;
  }
  // Decay only on matrices and the embedding/head; never on gains and biases.
  EXPECT_TRUE(g.at("embed.weight").weight_decay);
  EXPECT_FALSE(g.at("layers.0.attn_norm.weight").weight_decay);
  EXPECT_FALSE(g.at("layers.0.hc_attn_scale").weight_decay);
  EXPECT_FALSE(g.at("layers.0.attn.attn_sink").weight_decay);
  EXPECT_TRUE(g.at("layers.0.attn.wq_a.weight").weight_decay);
  // Per-group wo_a: o_groups matrices of [o_lora_rank, n_heads·head_dim/o_groups].
  const ParamGroup wo_a = g.at("layers.0.attn.wo_a.weight");
  EXPECT_EQ(wo_a.n_matrices, c.o_groups);
  EXPECT_EQ(wo_a.rows, c.o_lora_rank);
  EXPECT_EQ(wo_a.cols, int64_t(c.n_heads) * c.head_dim / c.o_groups);
  const ParamGroup w2 = g.at("layers.0.ffn.experts.7.w2.weight");
  EXPECT_EQ(w2.n_matrices, 1);
  EXPECT_EQ(w2.rows, c.dim);
  EXPECT_EQ(w2.cols, c.moe_inter_dim);
  // Every parameter has exactly one trainer; Muon only ever sees matrices.
  int64_t muon = 0, adamw = 0, bias = 0, total = 0;
  for (const TensorSpec& s : expected_tensors(c)) {
    const ParamGroup p = g.at(s.name);
    total += s.parameters();
    if (p.kind == OptimizerKind::kMuon) {
      EXPECT_EQ(s.shape.size(), 2u) << s.name;
      EXPECT_EQ(p.n_matrices * p.rows * p.cols, s.parameters()) << s.name;
      muon += s.parameters();
    }
    if (p.kind == OptimizerKind::kAdamW) adamw += s.parameters();
    if (p.kind == OptimizerKind::kBiasUpdate) bias += s.parameters();
  }
  EXPECT_EQ(muon + adamw + bias, total);
  EXPECT_GT(muon, adamw);
}

TEST(ParamGroups, QuantizedCheckpointScalesAreNotParameters) {
  const ModelConfig c = load("tests/data/golden/tiny-fp8/config.json");
  int scales = 0;
  for (const TensorSpec& s : expected_tensors(c)) {
    const ParamGroup p = param_group(s, c);
    if (s.role == TensorRole::kScale) {
      EXPECT_EQ(p.kind, OptimizerKind::kNone) << s.name;
      ++scales;
    }
    if (s.packed_fp4) {  // logical shape: two e2m1 codes per stored byte
      EXPECT_EQ(p.kind, OptimizerKind::kMuon);
      EXPECT_EQ(p.cols, s.shape[1] * 2) << s.name;
    }
  }
  EXPECT_GT(scales, 0);
}

}  // namespace
}  // namespace dsv4
