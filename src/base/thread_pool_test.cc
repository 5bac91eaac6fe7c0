#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace dsv4 {
namespace {

TEST(ThreadPool, ParallelForCoversEveryIndexOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 7, 64, 1000, 4097}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.parallel_for(n, 16, [&](int64_t b, int64_t e) {
        EXPECT_EQ(b % 16, 0);
        for (int64_t i = b; i < e; ++i) hits[size_t(i)]++;
      });
      for (int64_t i = 0; i < n; ++i) EXPECT_EQ(hits[size_t(i)].load(), 1) << threads << " " << n << " " << i;
    }
  }
}

TEST(ThreadPool, ManyShortRegionsAndNestedRegionsRunInline) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  for (int r = 0; r < 20000; ++r) pool.run([&](int t) { sum += t + 1; });
  EXPECT_EQ(sum.load(), 20000 * 3);
  std::atomic<int> inner{0};
  pool.run([&](int) { pool.parallel_for(10, 1, [&](int64_t b, int64_t e) { inner += int(e - b); }); });
  EXPECT_EQ(inner.load(), 20);  // each of the 2 threads ran the whole inner loop itself
}

}  // namespace
}  // namespace dsv4
