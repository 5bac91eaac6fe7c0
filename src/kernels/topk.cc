#include "kernels/topk.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "base/check.h"

namespace dsv4 {

void topk(const float* scores, int n, int k, int32_t* out) {
  DSV4_CHECK(0 <= k && k <= n);
  thread_local std::vector<int32_t> idx;
  idx.resize(size_t(n));
  std::iota(idx.begin(), idx.end(), 0);
  // NaN ranks as -inf so that the order stays a strict weak ordering whatever the weights hold.
  const auto key = [scores](int32_t i) { return std::isnan(scores[i]) ? -INFINITY : scores[i]; };
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&key](int32_t a, int32_t b) {
    const float ka = key(a), kb = key(b);
    return ka != kb ? ka > kb : a < b;
  });
  std::copy(idx.begin(), idx.begin() + k, out);
}

}  // namespace dsv4
