#include "kernels/hadamard.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>
#include <vector>

namespace dsv4 {
namespace {

// Sylvester order: H[i][j] = (−1)^popcount(i & j), scaled by n^−½.
TEST(Hadamard, MatchesTheNaiveMatrixProduct) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  for (int n = 1; n <= 256; n *= 2) {
    std::vector<float> x(static_cast<size_t>(n)), y;
    for (float& v : x) v = nd(rng);
    y = x;
    hadamard_transform(y.data(), n);
    for (int i = 0; i < n; ++i) {
      double want = 0;
      for (int j = 0; j < n; ++j) want += (std::popcount(unsigned(i & j)) % 2 ? -1.0 : 1.0) * x[size_t(j)];
      want /= std::sqrt(double(n));
      EXPECT_NEAR(y[size_t(i)], want, 1e-5) << "n " << n << " i " << i;
    }
    hadamard_transform(y.data(), n);  // orthonormal and symmetric: its own inverse
    for (int i = 0; i < n; ++i) EXPECT_NEAR(y[size_t(i)], x[size_t(i)], 1e-5);
  }
}

}  // namespace
}  // namespace dsv4
