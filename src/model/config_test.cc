// config.json parsing and validation, the expected tensor list of the official checkpoints (counts and
// bytes of spec §2.6), and the KV footprint formula against a real allocation.
#include "model/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "model/kv_cache.h"
#include "model/tensor_list.h"

namespace dsv4 {
namespace {

using json = nlohmann::json;

std::string read(const std::string& rel) {
  std::ifstream in(std::string(DSV4_SOURCE_DIR) + "/" + rel);
  EXPECT_TRUE(in) << "missing " << rel;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json flash() { return json::parse(read("configs/deepseek-v4-flash.json")); }

std::string error_of(const json& j) {
  auto r = parse_model_config_json(j.dump(), "config.json");
  return r ? "" : r.status().message();
}

TEST(Config, ParsesTheShippedConfigs) {
  auto f = load_model_config(std::string(DSV4_SOURCE_DIR) + "/configs/deepseek-v4-flash.json");
  ASSERT_TRUE(f) << f.status().message();
  EXPECT_EQ(f->dim, 4096);
  EXPECT_EQ(f->n_layers, 43);
  EXPECT_EQ(f->compress_ratios.size(), 44u);
  EXPECT_EQ(f->attn_kind(0), AttnKind::kSWA);
  EXPECT_EQ(f->attn_kind(2), AttnKind::kCSA);
  EXPECT_EQ(f->attn_kind(3), AttnKind::kHCA);
  EXPECT_EQ(f->attn_kind(43), AttnKind::kSWA);  // the MTP block
  EXPECT_TRUE(f->fp8 && f->fp4_experts);
  EXPECT_EQ(f->original_seq_len, 65536);
  EXPECT_FLOAT_EQ(f->route_scale, 1.5f);
  auto p = load_model_config(std::string(DSV4_SOURCE_DIR) + "/configs/deepseek-v4-pro.json");
  ASSERT_TRUE(p) << p.status().message();
  EXPECT_EQ(p->dim, 7168);
  EXPECT_EQ(p->index_topk, 1024);
  EXPECT_EQ(p->attn_kind(0), AttnKind::kHCA);
}

TEST(Config, RejectsWhatTheEngineCannotRun) {
  struct Case {
    const char* field;
    json value;
    const char* expect;
  };
  const Case cases[] = {
      {"model_type", "deepseek_v41", "unsupported model_type 'deepseek_v41'"},
      {"scoring_func", "softmax", "unsupported scoring_func 'softmax'"},
      {"hidden_size", "4096", "field 'hidden_size' must be an integer"},
      {"hidden_size", 0, "'hidden_size' must be positive"},
      {"hidden_size", 4000, "multiple of 128"},
      {"num_key_value_heads", 8, "num_key_value_heads must be 1"},
      {"num_experts_per_tok", 300, "exceeds n_routed_experts"},
      {"num_nextn_predict_layers", 3, "not supported"},
      {"o_groups", 7, "not divisible by o_groups"},
      {"qk_rope_head_dim", 63, "must be even"},
      {"index_head_dim", 96, "power of two"},
      {"expert_dtype", "fp8", "expert_dtype"},
      {"tie_word_embeddings", true, "tie_word_embeddings"},
      {"rms_norm_eps", "small", "must be a number"},
  };
  for (const Case& c : cases) {
    json j = flash();
    j[c.field] = c.value;
    const std::string e = error_of(j);
    EXPECT_NE(e.find(c.expect), std::string::npos) << c.field << " -> " << e;
    EXPECT_EQ(e.rfind("config.json: ", 0), 0u) << e;
  }
}

TEST(Config, RejectsBadCompressRatiosAndMissingFields) {
  json j = flash();
  j["compress_ratios"][5] = 64;
  EXPECT_NE(error_of(j).find("compress_ratios[5] = 64: only 0 (SWA), 4 (CSA) and 128 (HCA)"), std::string::npos)
      << error_of(j);
  j = flash();
  j["compress_ratios"].erase(0);
  EXPECT_NE(error_of(j).find("compress_ratios has 43 entries, expected"), std::string::npos) << error_of(j);
  j = flash();
  j.erase("head_dim");
  EXPECT_NE(error_of(j).find("missing field 'head_dim'"), std::string::npos) << error_of(j);
  j = flash();
  j["rope_scaling"]["type"] = "linear";
  EXPECT_NE(error_of(j).find("rope_scaling type 'linear'"), std::string::npos) << error_of(j);
  j = flash();
  j["quantization_config"]["weight_block_size"] = {64, 64};
  EXPECT_NE(error_of(j).find("weight_block_size"), std::string::npos) << error_of(j);
  EXPECT_NE(parse_model_config_json("{\"a\":", "c.json").status().message().find("not well-formed"), std::string::npos);
  EXPECT_NE(parse_model_config_json("[]", "c.json").status().message().find("not a JSON object"), std::string::npos);
  EXPECT_FALSE(load_model_config("/nonexistent/config.json"));
}

// Spec §2.6: the published index totals.
TEST(TensorList, ReproducesTheOfficialCheckpointTotals) {
  for (const auto& [file, count, bytes] :
       {std::tuple{"configs/deepseek-v4-flash.json", 69187, int64_t(159609485896)},
        std::tuple{"configs/deepseek-v4-pro.json", 145116, int64_t(864704792696)}}) {
    auto c = load_model_config(std::string(DSV4_SOURCE_DIR) + "/" + file);
    ASSERT_TRUE(c) << c.status().message();
    const auto specs = expected_tensors(c.value());
    int64_t total = 0;
    for (const auto& s : specs) total += s.stored_bytes();
    EXPECT_EQ(int64_t(specs.size()), count) << file;
    EXPECT_EQ(total, bytes) << file;
  }
}

TEST(KvCache, FootprintEqualsTheAllocation) {
  auto c = load_model_config(std::string(DSV4_SOURCE_DIR) + "/tests/data/golden/tiny-fp8/config.json");
  ASSERT_TRUE(c) << c.status().message();
  for (const char* name : {"f32", "bf16", "fp8", "fp8-idx8"})
    for (int64_t capacity : {1, 7, 394, 1000}) {
      const KvFormat format = parse_kv_format(name).value();
      const KvCache cache = make_kv_cache(c.value(), capacity, format);
      EXPECT_EQ(cache.allocated_bytes(), kv_footprint(c.value(), capacity, format).total()) << name << " " << capacity;
    }
}

}  // namespace
}  // namespace dsv4
