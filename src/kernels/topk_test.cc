#include "kernels/topk.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "base/cpu_features.h"

namespace dsv4 {
namespace {

TEST(Topk, DescendingWithTiesInIndexOrder) {
  const float s[6] = {1.0f, 3.0f, 2.0f, 3.0f, -INFINITY, 2.0f};
  int32_t out[4];
  topk(s, 6, 4, out);
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[1], 3);
  EXPECT_EQ(out[2], 2);
  EXPECT_EQ(out[3], 5);
}

TEST(Topk, NanRanksLast) {
  const float s[3] = {NAN, -1.0f, NAN};
  int32_t out[3];
  topk(s, 3, 3, out);
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[1], 0);
  EXPECT_EQ(out[2], 2);
}

TEST(NextAbove, VariantsMatchTheReference) {
  set_isa_limit(cpu_isa());
  std::mt19937 rng(8);
  std::vector<float> s(100);
  for (float& v : s) v = rng() % 10 == 0 ? NAN : float(rng() % 1000);
  for (int n : {0, 1, 15, 16, 17, 100})
    for (int from = 0; from <= n; from += 3)
      for (float t : {-1.0f, 500.0f, 990.0f, 2000.0f, -INFINITY})
        EXPECT_EQ(next_above(s.data(), from, n, t), next_above_ref(s.data(), from, n, t)) << n << " " << from << " " << t;
}

// Random scores with many ties, NaN and infinities, every k: the same picks as the partial sort.
TEST(Topk, MatchesThePartialSort) {
  std::mt19937 rng(3);
  for (int n : {1, 7, 64, 1000, 4099, 100003}) {
    std::vector<float> s(static_cast<size_t>(n));
    for (float& v : s) {
      const uint32_t r = rng() % 100;
      v = r < 3 ? NAN : r < 5 ? -INFINITY : r < 6 ? INFINITY : float(int(rng() % 50) - 25) * 0.5f;
    }
    for (int k : {0, 1, 5, 64, n}) {
      if (k > n) continue;
      std::vector<int32_t> want(size_t(k) + 1, -7), got(size_t(k) + 1, -7);
      topk_ref(s.data(), n, k, want.data());
      topk(s.data(), n, k, got.data());
      EXPECT_EQ(want, got) << "n " << n << " k " << k;
      topk_parallel(s.data(), n, k, got.data());
      EXPECT_EQ(want, got) << "parallel, n " << n << " k " << k;
    }
  }
}

}  // namespace
}  // namespace dsv4
