#include "kernels/rmsnorm.h"

#include <cmath>

#include "base/cpu_features.h"

namespace dsv4 {

float rms_inverse_ref(const float* x, int64_t n, float eps) {
  float ss = 0.0f;
  for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
  return 1.0f / std::sqrt(ss / float(n) + eps);
}

float rms_inverse(const float* x, int64_t n, float eps) {
  return active_isa() == Isa::kAvx512 ? rms_inverse_avx512(x, n, eps) : rms_inverse_ref(x, n, eps);
}

void rmsnorm(const float* x, const float* w, int64_t n, float eps, float* y) {
  const float r = rms_inverse(x, n, eps);
  for (int64_t i = 0; i < n; ++i) y[i] = w ? w[i] * (x[i] * r) : x[i] * r;
}

}  // namespace dsv4
