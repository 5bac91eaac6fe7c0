#include "base/arena.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace dsv4 {
namespace {

TEST(Arena, AlignsAndKeepsPointersUntilReset) {
  Arena a;
  float* x = a.alloc<float>(3);
  double* y = a.alloc<double>(1 << 20);  // forces a second block
  EXPECT_EQ(reinterpret_cast<uintptr_t>(x) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(y) % 64, 0u);
  x[0] = 1.0f;
  y[(1 << 20) - 1] = 2.0;
  EXPECT_EQ(x[0], 1.0f);
}

TEST(Arena, SteadyStateReusesOneBlock) {
  Arena a;
  for (int pass = 0; pass < 3; ++pass) {
    a.reset();
    a.alloc<float>(1000);
    a.alloc<float>(1 << 20);
    a.alloc<float>(1 << 20);
  }
  const size_t cap = a.capacity();
  a.reset();
  a.alloc<float>(1000);
  a.alloc<float>(1 << 20);
  a.alloc<float>(1 << 20);
  EXPECT_EQ(a.capacity(), cap);  // no new block: the heap is not touched in steady state
}

}  // namespace
}  // namespace dsv4
