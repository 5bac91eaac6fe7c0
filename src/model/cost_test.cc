// token_cost: the routed-expert share, the head and the embedding counted as documented, and V4-Flash's
// multiply-adds per token against its published active parameter count.
#include "model/cost.h"

#include <gtest/gtest.h>

#include <string>

namespace dsv4 {
namespace {

ModelConfig load(const std::string& rel) {
  auto c = load_model_config(std::string(DSV4_SOURCE_DIR) + "/" + rel);
  EXPECT_TRUE(c) << c.status().message();
  return c.value();
}

TEST(TokenCost, RoutedExpertsCountAtTheirActiveShare) {
  const ModelConfig c = load("tests/data/golden/tiny-bf16/config.json");  // BF16, 8 experts, top 2
  ModelConfig all = c;
  all.n_activated_experts = all.n_routed_experts;
  const TokenCost part = token_cost(c), full = token_cost(all);
  const double expert_params = 3.0 * c.moe_inter_dim * c.dim;  // w1, w2, w3
  const int idle = c.n_routed_experts - c.n_activated_experts;
  EXPECT_DOUBLE_EQ(full.linear_macs - part.linear_macs, double(c.n_layers) * idle * expert_params);
  // BF16 weights, plus one more I64 per tid2eid row in the hash layer (k entries per row).
  EXPECT_NEAR(full.decode_bytes - part.decode_bytes,
              double(c.n_layers) * idle * expert_params * 2 + c.n_hash_layers * idle * 8.0, 1e-3);
  EXPECT_DOUBLE_EQ(part.head_macs, double(c.vocab_size) * c.dim);
}

TEST(TokenCost, TheVocabularyCostsTheHeadButOneEmbeddingRow) {
  const ModelConfig c = load("tests/data/golden/tiny-fp8/config.json");
  ModelConfig wide = c;
  wide.vocab_size *= 2;
  const TokenCost a = token_cost(c), b = token_cost(wide);
  EXPECT_NEAR(b.decode_bytes - a.decode_bytes, double(c.vocab_size) * c.dim * 2, 1e-3);  // BF16 head rows
  EXPECT_DOUBLE_EQ(b.head_macs, 2 * a.head_macs);
  EXPECT_DOUBLE_EQ(b.linear_macs, a.linear_macs);
}

TEST(TokenCost, FlashMatchesItsActiveParameters) {
  // README: 13.3 B active parameters per token without the embedding; all but the 1-D vectors (norms,
  // biases, sinks, mHC bases) and the compressor ape tables are matrix products.
  const TokenCost f = token_cost(load("configs/deepseek-v4-flash.json"));
  EXPECT_NEAR((f.linear_macs + f.head_macs) / 1e9, 13.3, 0.06);
  EXPECT_GT(f.decode_bytes, 7e9);  // FP8 trunk + FP4 experts: well under 13.3 GB
  EXPECT_LT(f.decode_bytes, 13.3e9);
}

}  // namespace
}  // namespace dsv4
