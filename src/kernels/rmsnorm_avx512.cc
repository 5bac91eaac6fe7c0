// AVX-512 sum of squares for RMSNorm (4 accumulators; the order of additions differs from the _ref).
#include <immintrin.h>

#include <cmath>

#include "kernels/rmsnorm.h"
#include "base/simd_target.h"

DSV4_TARGET_AVX512

namespace dsv4 {

float rms_inverse_avx512(const float* x, int64_t n, float eps) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16), c = _mm512_loadu_ps(x + i + 32),
                 d = _mm512_loadu_ps(x + i + 48);
    s0 = _mm512_fmadd_ps(a, a, s0);
    s1 = _mm512_fmadd_ps(b, b, s1);
    s2 = _mm512_fmadd_ps(c, c, s2);
    s3 = _mm512_fmadd_ps(d, d, s3);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = __mmask16(n - i >= 16 ? 0xffff : (1u << (n - i)) - 1);
    const __m512 a = _mm512_maskz_loadu_ps(m, x + i);
    s0 = _mm512_fmadd_ps(a, a, s0);
  }
  const float ss = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
  return 1.0f / std::sqrt(ss / float(n) + eps);
}

}  // namespace dsv4

DSV4_TARGET_END
