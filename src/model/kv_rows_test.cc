// KV storage formats: exact round trips of rows already on the model's quantization grid, the stored
// sizes of v4-architecture.md §4.2, and the cache allocating exactly what kv_footprint() reports.
#include "model/kv_rows.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "base/float_formats.h"
#include "kernels/quantize.h"
#include "model/kv_cache.h"

namespace dsv4 {
namespace {

std::vector<float> random_row(int n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<float> round_trip(const KvRowLayout& l, const std::vector<float>& row) {
  KvRows r = make_kv_rows(l, 3);
  r.store(1, row.data());
  std::vector<float> out(row.size());
  r.load(1, out.data());
  return out;
}

void expect_bitwise(const std::vector<float>& a, const std::vector<float>& b) {
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

TEST(KvRows, Fp8MainRowEqualsTheSimulationWithBf16Rope) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    const float scale = seed % 3 == 0 ? 1e-6f : seed % 3 == 1 ? 1.0f : 300.0f;  // floors, normal, large
    std::vector<float> row = random_row(512, seed, scale);
    std::vector<float> want = row;
    fp8_simulate_ref(want.data(), 448, 64);
    for (int k = 448; k < 512; ++k) want[size_t(k)] = bf16_to_f32(f32_to_bf16(want[size_t(k)]));
    const KvRowLayout l = kv_main_layout(KvElem::kFp8, 512, 64);
    expect_bitwise(round_trip(l, row), want);
    expect_bitwise(round_trip(l, want), want);  // on the grid already (the model's rows): exact
  }
}

TEST(KvRows, IndexerKeysOnTheFp4GridAreExactInFp4AndFp8) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    std::vector<float> key = random_row(128, seed, seed % 2 ? 0.01f : 5.0f);
    fp4_simulate_ref(key.data(), 128, 32);
    expect_bitwise(round_trip(kv_key_layout(KvElem::kFp4, 128), key), key);
    expect_bitwise(round_trip(kv_key_layout(KvElem::kFp8, 128), key), key);
    std::vector<float> off_grid = random_row(128, seed + 100, 1.0f), want = off_grid;
    fp4_simulate_ref(want.data(), 128, 32);
    expect_bitwise(round_trip(kv_key_layout(KvElem::kFp4, 128), off_grid), want);
  }
}

TEST(KvRows, Bf16AndF32) {
  const std::vector<float> row = random_row(128, 7, 3.0f);
  std::vector<float> want = row;
  for (float& x : want) x = bf16_to_f32(f32_to_bf16(x));
  expect_bitwise(round_trip(kv_main_layout(KvElem::kBF16, 128, 64), row), want);
  expect_bitwise(round_trip(kv_main_layout(KvElem::kF32, 128, 64), row), row);
  std::vector<float> in_place = row;
  kv_round_trip(kv_main_layout(KvElem::kBF16, 128, 64), in_place.data());
  expect_bitwise(in_place, want);
}

TEST(KvRows, FormatNames) {
  for (const char* name : {"f32", "bf16", "fp8", "fp8-idx8"}) {
    const auto f = parse_kv_format(name);
    ASSERT_TRUE(f) << name;
    EXPECT_EQ(kv_format_name(f.value()), name);
  }
  EXPECT_FALSE(parse_kv_format("fp4"));
}

// v4-architecture.md §4.2: one 512-d entry and one 128-d indexer key, per format.
TEST(KvRows, StoredSizesOfTheSpec) {
  EXPECT_EQ(kv_main_layout(KvElem::kBF16, 512, 64).bytes(), 1024);
  EXPECT_EQ(kv_key_layout(KvElem::kBF16, 128).bytes(), 256);
  EXPECT_EQ(kv_main_layout(KvElem::kFp8, 512, 64).bytes(), 583);  // 448 + 7 scales + 64 × 2
  EXPECT_EQ(kv_main_layout(KvElem::kFp8, 512, 64).scale_bytes(), 7);
  EXPECT_EQ(kv_key_layout(KvElem::kFp4, 128).bytes(), 68);        // 64 + 4 scales
  EXPECT_EQ(kv_key_layout(KvElem::kFp8, 128).bytes(), 132);       // 128 + 4 scales
}

ModelConfig config(const char* file) {
  auto c = load_model_config(std::string(DSV4_SOURCE_DIR) + "/" + file);
  EXPECT_TRUE(c) << c.status().message();
  return c.value();
}

TEST(KvCache, BytesPerTokenOfV4) {
  const ModelConfig flash = config("configs/deepseek-v4-flash.json"), pro = config("configs/deepseek-v4-pro.json");
  const KvFormat bf16 = parse_kv_format("bf16").value(), fp8 = parse_kv_format("fp8").value();
  EXPECT_DOUBLE_EQ(kv_bytes_per_token(flash, bf16), 6880.0);
  EXPECT_DOUBLE_EQ(kv_bytes_per_token(pro, bf16), 9848.0);
  EXPECT_DOUBLE_EQ(kv_bytes_per_token(flash, fp8, /*with_scales=*/false), 3450.0);
  EXPECT_DOUBLE_EQ(kv_bytes_per_token(pro, fp8, false), 4939.5);
  EXPECT_NEAR(kv_bytes_per_token(flash, fp8), 3508.8, 0.05);
  EXPECT_NEAR(kv_bytes_per_token(pro, fp8), 5023.7, 0.05);
}

// The engine's real allocation for V4-Flash equals the footprint the report prints, and grows by exactly
// bytes/token per token (per 128 tokens, the HCA period): no hidden per-token buffers.
TEST(KvCache, FlashAllocationEqualsTheReport) {
  const ModelConfig flash = config("configs/deepseek-v4-flash.json");
  for (const char* name : {"bf16", "fp8", "fp8-idx8", "f32"}) {
    const KvFormat f = parse_kv_format(name).value();
    for (int64_t capacity : {int64_t(1), int64_t(4096), int64_t(5003)}) {
      const KvCache cache = make_kv_cache(flash, capacity, f);
      EXPECT_EQ(cache.allocated_bytes(), kv_footprint(flash, capacity, f).total()) << name << " " << capacity;
    }
    const int64_t a = kv_footprint(flash, 4096, f).total(), b = kv_footprint(flash, 8192, f).total();
    EXPECT_DOUBLE_EQ(double(b - a), 4096 * kv_bytes_per_token(flash, f)) << name;
  }
}

}  // namespace
}  // namespace dsv4
