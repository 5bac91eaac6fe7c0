// AVX-512 activations with a vector exp: 2^k · p(r) after Cody–Waite reduction and a degree-7 polynomial.
// Taylor terms to r^7 (|r| ≤ ln2/2: truncation below 1e-7 relative), checked by activation_test.
#include <immintrin.h>

#include <cmath>

#include "kernels/activation.h"
#include "base/simd_target.h"

DSV4_TARGET_AVX512

namespace dsv4 {

namespace {

inline __m512 exp512(__m512 x) {
  x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.7f)), _mm512_set1_ps(-104.0f));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(1.428606765330187045e-06f), r);
  __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, k);
}

inline __mmask16 tail_mask(int64_t left) { return __mmask16(left >= 16 ? 0xffff : (1u << left) - 1); }

}  // namespace

void swiglu_avx512(float* g, const float* u, int64_t n, float limit, float weight) {
  const __m512 lim = _mm512_set1_ps(limit), neg = _mm512_set1_ps(-limit), wv = _mm512_set1_ps(weight);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    __m512 gv = _mm512_maskz_loadu_ps(m, g + i), uv = _mm512_maskz_loadu_ps(m, u + i);
    if (limit > 0) {
      uv = _mm512_min_ps(_mm512_max_ps(uv, neg), lim);
      gv = _mm512_min_ps(gv, lim);
    }
    const __m512 silu = _mm512_div_ps(gv, _mm512_add_ps(_mm512_set1_ps(1.0f), exp512(_mm512_sub_ps(_mm512_setzero_ps(), gv))));
    _mm512_mask_storeu_ps(g + i, m, _mm512_mul_ps(wv, _mm512_mul_ps(silu, uv)));
  }
}

void softmax_with_sink_avx512(float* s, int64_t n, float scale, float sink) {
  const __m512 sc = _mm512_set1_ps(scale);
  __m512 mx = _mm512_set1_ps(-INFINITY);
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = tail_mask(n - j);
    const __m512 z = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, s + j), sc);
    _mm512_mask_storeu_ps(s + j, m, z);
    mx = _mm512_mask_max_ps(mx, m, mx, z);
  }
  const float M = _mm512_reduce_max_ps(mx);
  const __m512 mv = _mm512_set1_ps(M);
  __m512 sum = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = tail_mask(n - j);
    const __m512 e = _mm512_maskz_mov_ps(m, exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + j), mv)));
    _mm512_mask_storeu_ps(s + j, m, e);
    sum = _mm512_add_ps(sum, e);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / (_mm512_reduce_add_ps(sum) + std::exp(sink - M)));
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = tail_mask(n - j);
    _mm512_mask_storeu_ps(s + j, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, s + j), inv));
  }
}

}  // namespace dsv4

DSV4_TARGET_END
