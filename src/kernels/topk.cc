#include "kernels/topk.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "base/check.h"
#include "base/cpu_features.h"
#include "base/thread_pool.h"

namespace dsv4 {

namespace {

struct Ranked {
  float score;  // NaN already mapped to −∞
  int32_t index;
};

// Strict weak order "a ranks before b": higher score, then lower index.
bool ranks_before(const Ranked& a, const Ranked& b) {
  return a.score != b.score ? a.score > b.score : a.index < b.index;
}

float rank_key(float s) { return std::isnan(s) ? -INFINITY : s; }

}  // namespace

void topk_ref(const float* scores, int n, int k, int32_t* out) {
  DSV4_CHECK(0 <= k && k <= n);
  std::vector<int32_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [scores](int32_t a, int32_t b) {
    return ranks_before({rank_key(scores[a]), a}, {rank_key(scores[b]), b});
  });
  std::copy(idx.begin(), idx.begin() + k, out);
}

int next_above_ref(const float* scores, int from, int n, float threshold) {
  int i = from;
  while (i < n && !(scores[i] > threshold)) ++i;
  return i;
}

int next_above(const float* scores, int from, int n, float threshold) {
  if (active_isa() == Isa::kAvx512) return next_above_avx512(scores, from, n, threshold);
  return next_above_ref(scores, from, n, threshold);
}

namespace {

// The k best of scores[0, n) as (score, index + offset), best first, into `heap`.
void best_of(const float* scores, int n, int k, int32_t offset, std::vector<Ranked>& heap) {
  heap.clear();
  if (k == 0) return;
  for (int32_t i = 0; i < k; ++i) heap.push_back({rank_key(scores[i]), i});  // the k best so far
  std::make_heap(heap.begin(), heap.end(), ranks_before);
  float worst = heap.front().score;
  // Later indices lose ties, so only a strictly higher score enters (NaN compares false: never).
  for (int32_t i = next_above(scores, k, n, worst); i < n; i = next_above(scores, i + 1, n, worst)) {
    std::pop_heap(heap.begin(), heap.end(), ranks_before);
    heap.back() = {scores[i], i};
    std::push_heap(heap.begin(), heap.end(), ranks_before);
    worst = heap.front().score;
  }
  std::sort(heap.begin(), heap.end(), ranks_before);
  for (Ranked& r : heap) r.index += offset;
}

}  // namespace

void topk(const float* scores, int n, int k, int32_t* out) {
  DSV4_CHECK(0 <= k && k <= n);
  thread_local std::vector<Ranked> best;
  best_of(scores, n, k, 0, best);
  for (int i = 0; i < k; ++i) out[i] = best[size_t(i)].index;
}

void topk_parallel(const float* scores, int n, int k, int32_t* out) {
  DSV4_CHECK(0 <= k && k <= n);
  ThreadPool& pool = default_thread_pool();
  const int parts = pool.size();
  if (parts == 1 || n < 8 * k * parts) return topk(scores, n, k, out);
  // Kept between calls so that decode does not allocate. (A lambda names a thread_local as the running
  // thread's own: the workers get this thread's vectors by reference.)
  thread_local std::vector<std::vector<Ranked>> kept;
  thread_local std::vector<Ranked> all;
  std::vector<std::vector<Ranked>>& best = kept;
  best.resize(static_cast<size_t>(parts));
  pool.parallel_for(parts, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int begin = int(int64_t(n) * p / parts), end = int(int64_t(n) * (p + 1) / parts);
      best_of(scores + begin, end - begin, std::min(k, end - begin), begin, best[size_t(p)]);
    }
  });
  all.clear();
  for (const auto& b : best) all.insert(all.end(), b.begin(), b.end());
  std::partial_sort(all.begin(), all.begin() + k, all.end(), ranks_before);
  for (int i = 0; i < k; ++i) out[i] = all[size_t(i)].index;
}

}  // namespace dsv4
