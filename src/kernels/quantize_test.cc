#include "kernels/quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "base/cpu_features.h"
#include "base/float_formats.h"

namespace dsv4 {
namespace {

TEST(Pow2Scale, RoundsUpToPowersOfTwo) {
  EXPECT_EQ(pow2_scale(448.0f, 1.0f / 448.0f), 1.0f);  // exactly representable: no rounding up
  EXPECT_EQ(pow2_scale(449.0f, 1.0f / 448.0f), 2.0f);
  EXPECT_EQ(pow2_scale(224.0f, 1.0f / 448.0f), 0.5f);
  EXPECT_EQ(pow2_scale(6.0f, 1.0f / 6.0f), 1.0f);
  EXPECT_EQ(pow2_scale(7.0f, 1.0f / 6.0f), 2.0f);
  EXPECT_EQ(pow2_scale(kFp4AmaxFloor, 1.0f / 6.0f), 0x1p-126f);  // the FP4 floor stays a normal float
}

TEST(ActQuant, CodesTimesScalesReproduceTheSimulation) {
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  std::vector<float> x(384);
  for (float& v : x) v = nd(rng);
  x[5] = 1000.0f;  // one large block
  std::vector<uint8_t> codes(x.size());
  std::vector<float> scales(3);
  act_quant_fp8(x.data(), int64_t(x.size()), 128, codes.data(), scales.data());
  EXPECT_EQ(scales[0], pow2_scale(1000.0f, 1.0f / 448.0f));
  std::vector<float> sim = x;
  fp8_simulate(sim.data(), int64_t(sim.size()), 128);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(e4m3_to_f32(codes[i]) * scales[i / 128], sim[i]) << i;
    EXPECT_LE(std::fabs(sim[i] - x[i]), std::fabs(x[i]) / 16 + scales[i / 128] * 0x1p-9f) << i;
  }
}

TEST(ActQuant, AllZeroBlockUsesTheAmaxFloor) {
  std::vector<float> x(64, 0.0f);
  std::vector<uint8_t> codes(64);
  float scale;
  act_quant_fp8(x.data(), 64, 64, codes.data(), &scale);
  EXPECT_EQ(scale, pow2_scale(kFp8AmaxFloor, 1.0f / 448.0f));
  for (uint8_t c : codes) EXPECT_EQ(c, 0);
}

TEST(Simulate, IsIdempotent) {
  std::mt19937 rng(2);
  std::normal_distribution<float> nd;
  std::vector<float> a(256), b;
  for (float& v : a) v = nd(rng);
  fp8_simulate(a.data(), 256, 64);
  b = a;
  fp8_simulate(b.data(), 256, 64);
  EXPECT_EQ(a, b);
  for (float& v : a) v = nd(rng);
  fp4_simulate(a.data(), 256, 32);
  b = a;
  fp4_simulate(b.data(), 256, 32);
  EXPECT_EQ(a, b);
}

TEST(Fp4Simulate, KnownBlock) {
  // amax 3 → scale 2^ceil(log2(0.5)) = 0.5: values / 0.5 rounded to e2m1, then × 0.5.
  std::vector<float> x(32, 0.0f);
  x[0] = 3.0f;    // 6 → 6 → 3
  x[1] = 1.3f;    // 2.6 → 3 → 1.5
  x[2] = -0.6f;   // -1.2 → -1 → -0.5
  x[3] = 0.125f;  // 0.25 → tie → 0
  fp4_simulate(x.data(), 32, 32);
  EXPECT_EQ(x[0], 3.0f);
  EXPECT_EQ(x[1], 1.5f);
  EXPECT_EQ(x[2], -0.5f);
  EXPECT_EQ(x[3], 0.0f);
}

}  // namespace
}  // namespace dsv4

namespace dsv4 {
namespace {

// The SIMD simulations give the reference's bits, on random data and on the grids' ties and edges.
TEST(Simulate, VariantsMatchTheReferenceBitForBit) {
  std::mt19937 rng(11);
  std::normal_distribution<float> nd;
  std::vector<float> x(4096);
  for (size_t i = 0; i < x.size(); ++i) {
    const float scale = std::ldexp(1.0f, int(i % 40) - 20);
    x[i] = nd(rng) * scale;
  }
  // Exact ties and boundaries for a block whose scale is 1 (amax 448 / 6): e4m3 and e2m1 midpoints.
  const float ties8[] = {448.0f, 46.0f, -46.0f, 1.0625f, 1.1875f, 432.0f, 3 * 0x1p-10f, 15 * 0x1p-10f, 0x1p-10f, 0.0f};
  for (size_t i = 0; i < std::size(ties8); ++i) x[i] = ties8[i];
  for (int block : {32, 64, 128}) {
    std::vector<float> a = x, b = x;
    fp8_simulate_ref(a.data(), int64_t(a.size()), block);
    set_isa_limit(cpu_isa());
    fp8_simulate(b.data(), int64_t(b.size()), block);
    for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(f32_bits(a[i]), f32_bits(b[i])) << "fp8 block " << block << " i " << i;
  }
  for (int block : {64, 128}) {
    std::vector<float> want(x.size()), got(x.size()), want_s(x.size() / size_t(block)), got_s(want_s.size());
    act_quant_fp8_values_ref(x.data(), int64_t(x.size()), block, want.data(), want_s.data());
    act_quant_fp8_values(x.data(), int64_t(x.size()), block, got.data(), got_s.data());
    for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(f32_bits(want[i]), f32_bits(got[i])) << "values block " << block << " i " << i;
    for (size_t i = 0; i < want_s.size(); ++i) ASSERT_EQ(f32_bits(want_s[i]), f32_bits(got_s[i])) << "scale " << i;
  }
  const float ties4[] = {6.0f, 0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f, -5.0f, 0.0f};
  for (size_t i = 0; i < std::size(ties4); ++i) x[i] = ties4[i];
  std::vector<float> a = x, b = x;
  fp4_simulate_ref(a.data(), int64_t(a.size()), 32);
  fp4_simulate(b.data(), int64_t(b.size()), 32);
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(f32_bits(a[i]), f32_bits(b[i])) << "fp4 i " << i;
}

// Decoding KV rows: every code and scale byte, rows at odd strides, widths whose tails are not whole
// vectors.
TEST(DecodeRows, VariantsMatchTheReference) {
  set_isa_limit(cpu_isa());
  std::mt19937 rng(5);
  std::vector<uint8_t> src(16384);
  for (size_t i = 0; i < src.size(); ++i) src[i] = i < 256 ? uint8_t(i) : uint8_t(rng());
  for (uint8_t& b : src) if (b == 255 && rng() % 2) b = 127;  // scale bytes: 255 is NaN, keep a few
  const auto same = [](const std::vector<float>& want, const std::vector<float>& got, const char* what) {
    for (size_t i = 0; i < want.size(); ++i)
      if (std::isnan(want[i])) ASSERT_TRUE(std::isnan(got[i])) << what << " i " << i;
      else ASSERT_EQ(f32_bits(want[i]), f32_bits(got[i])) << what << " i " << i;
  };
  for (int64_t rows : {1, 3, 40}) {
    for (int tail : {0, 8, 64}) {
      const int width = 128 + tail;
      const int64_t stride = 128 + 2 + 2 * tail + 1;
      std::vector<float> want(size_t(rows * width)), got(want.size());
      e4m3_decode_rows_ref(src.data() + 1, rows, stride, width, tail, 64, want.data());
      e4m3_decode_rows(src.data() + 1, rows, stride, width, tail, 64, got.data());
      same(want, got, "e4m3");
    }
  }
  for (int64_t n : {1, 15, 16, 17, 100}) {
    std::vector<float> want(static_cast<size_t>(n)), got(static_cast<size_t>(n) + 1, -1.0f);
    bf16_decode_ref(src.data() + 1, n, want.data());
    bf16_decode(src.data() + 1, n, got.data());
    got.pop_back();
    same(want, got, "bf16");
  }
}

}  // namespace
}  // namespace dsv4
