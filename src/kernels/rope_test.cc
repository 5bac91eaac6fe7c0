#include "kernels/rope.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace dsv4 {
namespace {

// v4-architecture.md §3.5: θ = 160000 with YaRN (factor 16, original 65536, β 32 / 1) gives the ramp
// [15, 25]: pairs 0–15 keep θ^(−2i/64), pairs 25–31 are divided by 16, linear blend in between.
TEST(Rope, YarnTableMatchesTheSpec) {
  const std::vector<float> f = rope_frequencies({64, 160000, 65536, 16, 32, 1});
  ASSERT_EQ(f.size(), 32u);
  for (int i = 0; i < 32; ++i) {
    const double base = std::pow(160000.0, -2.0 * i / 64);
    const double ramp = std::clamp((i - 15) / 10.0, 0.0, 1.0);
    const double want = base / 16 * ramp + base * (1 - ramp);
    EXPECT_NEAR(f[size_t(i)], want, 2e-6 * want) << i;
  }
  EXPECT_NEAR(f[15], std::pow(160000.0, -30.0 / 64), 1e-6 * f[15]);
  EXPECT_NEAR(f[25], std::pow(160000.0, -50.0 / 64) / 16, 1e-6 * f[25]);
  EXPECT_NEAR(f[20], std::pow(160000.0, -40.0 / 64) * (1 - 0.5 + 0.5 / 16), 1e-6 * f[20]);
}

TEST(Rope, PlainTableHasNoYarn) {
  const std::vector<float> f = rope_frequencies({64, 10000, 0, 16, 32, 1});
  for (int i = 0; i < 32; ++i) EXPECT_NEAR(f[size_t(i)], std::pow(10000.0, -2.0 * i / 64), 1e-6) << i;
  EXPECT_EQ(f[0], 1.0f);
}

TEST(Rope, RotatesInterleavedPairsAndInverts) {
  const std::vector<float> f = rope_frequencies({64, 10000, 0, 1, 32, 1});
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  float x[64], y[64];
  for (float& v : x) v = nd(rng);
  std::copy(x, x + 64, y);
  rope_apply(y, f, 1234);
  // pair 0 has frequency 1: angle 1234
  EXPECT_NEAR(y[0], x[0] * std::cos(1234.0f) - x[1] * std::sin(1234.0f), 1e-5);
  EXPECT_NEAR(y[1], x[0] * std::sin(1234.0f) + x[1] * std::cos(1234.0f), 1e-5);
  for (int i = 0; i < 32; ++i)  // rotations keep each pair's norm
    EXPECT_NEAR(std::hypot(y[2 * i], y[2 * i + 1]), std::hypot(x[2 * i], x[2 * i + 1]), 1e-5);
  rope_apply(y, f, 1234, /*inverse=*/true);
  for (int i = 0; i < 64; ++i) EXPECT_NEAR(y[i], x[i], 1e-5);
  float z[64];
  std::copy(x, x + 64, z);
  rope_apply(z, f, 0);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(z[i], x[i]);
}

}  // namespace
}  // namespace dsv4
