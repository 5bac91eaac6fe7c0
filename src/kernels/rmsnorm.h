// RMSNorm: y = w · x / sqrt(mean(x²) + eps), FP32 arithmetic. `w` may be null (weightless norm, as the
// per-head query norm and the mHC input scale use).
#pragma once

#include <cstdint>

namespace dsv4 {

void rmsnorm(const float* x, const float* w, int64_t n, float eps, float* y);  // y may alias x

// 1 / sqrt(mean(x²) + eps)
float rms_inverse(const float* x, int64_t n, float eps);
float rms_inverse_ref(const float* x, int64_t n, float eps);
float rms_inverse_avx512(const float* x, int64_t n, float eps);  // only where the CPU has AVX-512

}  // namespace dsv4
