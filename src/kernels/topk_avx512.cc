// AVX-512 scan for top-k: sixteen comparisons per instruction.
#include <immintrin.h>

#include "kernels/topk.h"
#include "base/simd_target.h"

DSV4_TARGET_AVX512

namespace dsv4 {

int next_above_avx512(const float* scores, int from, int n, float threshold) {
  const __m512 t = _mm512_set1_ps(threshold);
  for (int i = from; i < n; i += 16) {
    const __mmask16 valid = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1);
    // _CMP_GT_OQ: false for NaN, as the scalar comparison.
    const __mmask16 above = _mm512_mask_cmp_ps_mask(valid, _mm512_maskz_loadu_ps(valid, scores + i), t, _CMP_GT_OQ);
    if (above) return i + __builtin_ctz(above);
  }
  return n;
}

}  // namespace dsv4

DSV4_TARGET_END
