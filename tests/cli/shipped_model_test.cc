// The embedded default model, models/shakespeare-v4 (recipe: docs/training.md): it has every V4 component,
// stays within its size budget, loads in the engine, reaches the promised loss on the held-out split of
// data/tinyshakespeare.txt, and generates the same text for the same seed.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "test_util.h"

namespace dsv4 {
namespace {

namespace fs = std::filesystem;
const std::string kBin = DSV4_BINARY;
const std::string kModel = testing::source_path("models/shakespeare-v4");

TEST(ShippedModel, HasEveryV4ComponentWithinItsSizeBudget) {
  ASSERT_TRUE(fs::exists(kModel + "/model.safetensors")) << "the shipped model is missing: " << kModel;
  ASSERT_TRUE(fs::exists(kModel + "/tokenizer.json")) << kModel;
  const nlohmann::json c = testing::read_json(kModel + "/config.json");
  std::set<int> ratios;
  for (const auto& r : c.at("compress_ratios")) ratios.insert(r.get<int>());
  EXPECT_EQ(ratios, (std::set<int>{0, 4, 128}));  // SWA-only, CSA and HCA layers
  EXPECT_EQ(c.at("hc_mult").get<int>(), 4);         // mHC
  EXPECT_GE(c.at("num_hash_layers").get<int>(), 1);
  EXPECT_GE(c.at("n_routed_experts").get<int>(), 2);
  EXPECT_GE(c.at("num_nextn_predict_layers").get<int>(), 1);  // MTP
  uint64_t bytes = 0;
  for (const auto& e : fs::directory_iterator(kModel)) bytes += e.file_size();
  EXPECT_LE(bytes, 20u << 20);
}

// The same validation split the recipe trains against: the text's last 10 %, cut at a line start, in
// windows of 257 tokens (the training windows).
TEST(ShippedModel, ReachesItsValidationLossInTheEngine) {
  testing::TempDir dir;
  const std::string shards = dir.str() + "/shards";
  auto r = testing::run_command(kBin + " data prepare -m " + kModel + " --data " +
                                testing::source_path("data/tinyshakespeare.txt") + " --out " + shards);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_command(kBin + " eval -m " + kModel + " --data " + shards + " --split val --ctx 257 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_GT(j.at("predicted").get<int64_t>(), 40000);
  EXPECT_LE(j.at("nats_per_byte").get<double>(), 1.6) << r.out;
}

TEST(ShippedModel, GeneratesTheSameTextForTheSameSeed) {
  const std::string cmd = kBin + " run -m " + kModel + " -p 'ROMEO:' -n 48 --temp 0.8 --seed 7";
  const auto a = testing::run_command(cmd), b = testing::run_command(cmd);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_GT(a.out.size(), 48u);  // 48 tokens of ~2.3 bytes each
}

}  // namespace
}  // namespace dsv4
