#include "kernels/activation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "base/cpu_features.h"

namespace dsv4 {
namespace {

class ActivationVariants : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (GetParam() > cpu_isa()) GTEST_SKIP() << isa_name(GetParam()) << " not available on this CPU";
    set_isa_limit(GetParam());
  }
  void TearDown() override { set_isa_limit(Isa::kAvx512); }
};

TEST_P(ActivationVariants, SwigluMatchesTheReference) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 6.0f);
  for (int64_t n : {1, 7, 16, 33, 2048}) {
    std::vector<float> g(static_cast<size_t>(n)), u(g.size());
    for (size_t i = 0; i < g.size(); ++i) g[i] = nd(rng), u[i] = nd(rng);
    for (float limit : {0.0f, 4.0f})
      for (float weight : {1.0f, 0.37f}) {
        std::vector<float> a = g, b = g;
        swiglu_ref(a.data(), u.data(), n, limit, weight);
        swiglu(b.data(), u.data(), n, limit, weight);
        for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(b[i], a[i], 4e-7f * (1 + std::fabs(a[i]))) << n << " " << i;
      }
  }
}

TEST_P(ActivationVariants, SoftmaxWithSinkMatchesTheReference) {
  std::mt19937 rng(6);
  std::normal_distribution<float> nd(0.0f, 20.0f);
  for (int64_t n : {1, 5, 16, 17, 640}) {
    std::vector<float> s(static_cast<size_t>(n));
    for (float& v : s) v = nd(rng);
    for (float sink : {-INFINITY, 0.0f, 30.0f}) {
      std::vector<float> a = s, b = s;
      softmax_with_sink_ref(a.data(), n, 0.25f, sink);
      softmax_with_sink(b.data(), n, 0.25f, sink);
      double total = 0;
      for (size_t i = 0; i < a.size(); ++i) {
        // Both sum up to 640 terms in FP32, in different orders.
        EXPECT_NEAR(b[i], a[i], 5e-6f * (1 + a[i])) << n << " " << i;
        total += b[i];
      }
      if (sink == -INFINITY) {
        EXPECT_NEAR(total, 1.0, 1e-5);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, ActivationVariants, ::testing::Values(Isa::kScalar, Isa::kAvx512),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

}  // namespace
}  // namespace dsv4
