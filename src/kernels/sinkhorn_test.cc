#include "kernels/sinkhorn.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace dsv4 {
namespace {

// After the last (column) normalisation every column sums to s / (s + eps): exactly 1 within 1e-6 for
// pure Sinkhorn (eps = 0); the model's eps = 1e-6 shifts that fixed point by eps itself.
void check_doubly_stochastic(float eps, double col_tol) {
  std::mt19937 rng(7);
  for (float spread : {0.1f, 1.0f, 5.0f, 20.0f}) {
    std::normal_distribution<float> nd(0.0f, spread);
    for (int trial = 0; trial < 50; ++trial) {
      float m[16];
      for (float& v : m) v = nd(rng);
      sinkhorn(m, 4, 20, eps);
      for (int k = 0; k < 4; ++k) {
        double col = 0;
        for (int j = 0; j < 4; ++j) col += m[j * 4 + k];
        EXPECT_NEAR(col, 1.0, col_tol) << "spread " << spread;
      }
      for (int j = 0; j < 4; ++j) {
        double row = 0;
        for (int k = 0; k < 4; ++k) {
          row += m[j * 4 + k];
          EXPECT_GT(m[j * 4 + k], 0.0f);
        }
        if (spread <= 1.0f) {
          EXPECT_NEAR(row, 1.0, 1e-3);  // converged for moderate logits
        }
      }
    }
  }
}

TEST(Sinkhorn, ColumnsSumToOne) { check_doubly_stochastic(0.0f, 1e-6); }
TEST(Sinkhorn, ColumnsSumToOneWithTheModelsEps) { check_doubly_stochastic(1e-6f, 1e-6 + 5e-7); }

TEST(Sinkhorn, OneIterationIsSoftmaxThenColumnNormalisation) {
  float m[4] = {0.0f, std::log(3.0f), std::log(2.0f), std::log(2.0f)};
  sinkhorn(m, 2, 1, 0.0f);
  // softmax rows: [1/4, 3/4], [1/2, 1/2]; column sums 3/4 and 5/4.
  EXPECT_FLOAT_EQ(m[0], 0.25f / 0.75f);
  EXPECT_FLOAT_EQ(m[1], 0.75f / 1.25f);
  EXPECT_FLOAT_EQ(m[2], 0.5f / 0.75f);
  EXPECT_FLOAT_EQ(m[3], 0.5f / 1.25f);
}

}  // namespace
}  // namespace dsv4
