#include "kernels/hadamard.h"

#include <cmath>

#include "base/check.h"

namespace dsv4 {

void hadamard_transform(float* x, int n) {
  DSV4_CHECK(n > 0 && (n & (n - 1)) == 0);
  for (int h = 1; h < n; h *= 2)
    for (int i = 0; i < n; i += 2 * h)
      for (int j = i; j < i + h; ++j) {
        const float a = x[j], b = x[j + h];
        x[j] = a + b;
        x[j + h] = a - b;
      }
  const float scale = 1.0f / std::sqrt(float(n));
  for (int i = 0; i < n; ++i) x[i] *= scale;
}

}  // namespace dsv4
