#include "kernels/rmsnorm.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "base/cpu_features.h"

namespace dsv4 {
namespace {

TEST(RmsNorm, SimdMatchesTheReferenceAtOddLengths) {
  if (cpu_isa() < Isa::kAvx512) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(4);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  for (int64_t n : {1, 15, 16, 17, 63, 64, 65, 100, 4096, 4099}) {
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) v = nd(rng);
    EXPECT_NEAR(rms_inverse_avx512(x.data(), n, 1e-6f), rms_inverse_ref(x.data(), n, 1e-6f),
                1e-6f * rms_inverse_ref(x.data(), n, 1e-6f))
        << n;
  }
}

TEST(RmsNorm, NormalisesAndWeights) {
  const float x[4] = {1, -1, 1, -1}, w[4] = {1, 2, 3, 4};
  float y[4];
  rmsnorm(x, w, 4, 0.0f, y);
  EXPECT_FLOAT_EQ(y[1], -2.0f);
  EXPECT_FLOAT_EQ(y[3], -4.0f);
}

}  // namespace
}  // namespace dsv4
