// The four codecs against hand-computed values, including the edges: ±max, subnormals, NaN codes, ties.
#include "base/float_formats.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dsv4 {
namespace {

TEST(Bf16, DecodesUpperBits) {
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(bf16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(bf16_to_f32(0x7f7f), 0x1.fep127f);   // largest finite
  EXPECT_EQ(bf16_to_f32(0x0001), 0x1p-133f);     // smallest subnormal
  EXPECT_TRUE(std::isinf(bf16_to_f32(0x7f80)));
  EXPECT_TRUE(std::isnan(bf16_to_f32(0x7fc0)));
}

TEST(Bf16, EncodesNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);             // tie, 1.0 is even
  EXPECT_EQ(f32_to_bf16(1.0f + 3 * 0x1p-8f), 0x3f82);         // tie, rounds up to the even mantissa
  EXPECT_EQ(f32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81);  // above the tie
  EXPECT_EQ(f32_to_bf16(0x1.ffp127f), 0x7f80);                // overflows to +inf
  EXPECT_EQ(f32_to_bf16(-0.0f), 0x8000);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
}

TEST(E4m3, DecodesTable) {
  EXPECT_EQ(e4m3_to_f32(0x00), 0.0f);
  EXPECT_TRUE(std::signbit(e4m3_to_f32(0x80)));
  EXPECT_EQ(e4m3_to_f32(0x01), 0x1p-9f);          // smallest subnormal: 1/8 · 2^-6
  EXPECT_EQ(e4m3_to_f32(0x07), 7 * 0x1p-9f);      // largest subnormal
  EXPECT_EQ(e4m3_to_f32(0x08), 0x1p-6f);          // smallest normal
  EXPECT_EQ(e4m3_to_f32(0x38), 1.0f);
  EXPECT_EQ(e4m3_to_f32(0x39), 1.125f);
  EXPECT_EQ(e4m3_to_f32(0x7e), 448.0f);           // max
  EXPECT_EQ(e4m3_to_f32(0xfe), -448.0f);
  EXPECT_EQ(e4m3_to_f32(0x77), 240.0f);           // exponent 14: 1.875 · 2^7
  EXPECT_EQ(e4m3_to_f32(0x78), 256.0f);           // exponent 15 is finite in e4m3fn
  EXPECT_TRUE(std::isnan(e4m3_to_f32(0x7f)));
  EXPECT_TRUE(std::isnan(e4m3_to_f32(0xff)));
}

TEST(E4m3, EveryFiniteCodeRoundTrips) {
  for (int c = 0; c < 256; ++c) {
    if ((c & 0x7f) == 0x7f) continue;
    EXPECT_EQ(f32_to_e4m3(e4m3_to_f32(uint8_t(c))), c) << c;
  }
}

TEST(E4m3, EncodesNearestEvenAndSaturates) {
  EXPECT_EQ(f32_to_e4m3(1.0625f), 0x38);    // tie between 1 (even) and 1.125
  EXPECT_EQ(f32_to_e4m3(1.1875f), 0x3a);    // tie between 1.125 and 1.25 (even)
  EXPECT_EQ(f32_to_e4m3(1.07f), 0x39);
  EXPECT_EQ(f32_to_e4m3(46.0f), 0x64);      // tie between 44 and 48 (even mantissa): 48
  EXPECT_EQ(f32_to_e4m3(45.99f), 0x63);     // 44
  EXPECT_EQ(f32_to_e4m3(432.0f), 0x7e);     // tie between 416 and 448: 448 is even
  EXPECT_EQ(f32_to_e4m3(424.0f), 0x7d);     // 416
  EXPECT_EQ(f32_to_e4m3(460.0f), 0x7e);     // saturates
  EXPECT_EQ(f32_to_e4m3(1e9f), 0x7e);
  EXPECT_EQ(f32_to_e4m3(-1e9f), 0xfe);
  EXPECT_EQ(f32_to_e4m3(INFINITY), 0x7e);
  EXPECT_EQ(f32_to_e4m3(0x1p-10f), 0x00);   // subnormal tie between 0 and 2^-9: 0 is even
  EXPECT_EQ(f32_to_e4m3(3 * 0x1p-10f), 0x02);  // tie between 1 and 2 (·2^-9): 2 is even
  EXPECT_EQ(f32_to_e4m3(15 * 0x1p-10f), 0x08);  // tie between 7·2^-9 and 2^-6: the normal is even
  EXPECT_EQ(f32_to_e4m3(0x1p-20f), 0x00);
  EXPECT_EQ(f32_to_e4m3(-0x1p-20f), 0x80);
  EXPECT_EQ(f32_to_e4m3(NAN) & 0x7f, 0x7f);
}

TEST(E8m0, PowersOfTwo) {
  EXPECT_EQ(e8m0_to_f32(127), 1.0f);
  EXPECT_EQ(e8m0_to_f32(128), 2.0f);
  EXPECT_EQ(e8m0_to_f32(120), 0x1p-7f);
  EXPECT_EQ(e8m0_to_f32(254), 0x1p127f);
  EXPECT_EQ(e8m0_to_f32(1), 0x1p-126f);
  EXPECT_EQ(e8m0_to_f32(0), 0x1p-127f);  // a float32 subnormal
  EXPECT_TRUE(std::isnan(e8m0_to_f32(255)));
}

TEST(E2m1, DecodesTable) {
  const float want[16] = {0, .5f, 1, 1.5f, 2, 3, 4, 6, -0.0f, -.5f, -1, -1.5f, -2, -3, -4, -6};
  for (int c = 0; c < 16; ++c) EXPECT_EQ(e2m1_to_f32(uint8_t(c)), want[c]) << c;
  EXPECT_TRUE(std::signbit(e2m1_to_f32(8)));
  EXPECT_EQ(e2m1_to_f32(0xf3), 1.5f);  // only the low nibble counts
}

TEST(E2m1, EncodesNearestEvenAndSaturates) {
  struct Case { float in; uint8_t code; };
  const Case cases[] = {{0.0f, 0},  {0.25f, 0}, {0.26f, 1}, {0.75f, 2}, {1.25f, 2}, {1.3f, 3},
                        {1.75f, 4}, {2.5f, 4},  {2.6f, 5},  {3.5f, 6},  {5.0f, 6},  {5.1f, 7},
                        {6.0f, 7},  {100.f, 7}, {-0.75f, 10}, {-5.0f, 14}, {-7.0f, 15}};
  for (const Case& c : cases) EXPECT_EQ(f32_to_e2m1(c.in), c.code) << c.in;
  for (int c = 0; c < 16; ++c) EXPECT_EQ(f32_to_e2m1(e2m1_to_f32(uint8_t(c))), c) << c;
}

}  // namespace
}  // namespace dsv4
