#include "kernels/topk.h"

#include <gtest/gtest.h>

#include <cmath>

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

}  // namespace
}  // namespace dsv4
