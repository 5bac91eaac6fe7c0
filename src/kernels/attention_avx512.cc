// AVX-512 weighted row sum for attention: the running sums of up to 128 columns stay in registers while
// the rows stream past, so each row is read once.
#include <immintrin.h>

#include "kernels/attention.h"
#include "base/simd_target.h"

DSV4_TARGET_AVX512

namespace dsv4 {

namespace {

// Columns [0, 16 · V) of out, every row; `mask` limits the last vector (a partial one at the tail).
template <int V>
void accumulate_columns(const float* w, int n, const float* rows, int d, float* out, __mmask16 mask) {
  __m512 acc[V];
  for (int v = 0; v < V; ++v) acc[v] = _mm512_maskz_loadu_ps(v == V - 1 ? mask : __mmask16(0xffff), out + 16 * v);
  for (int j = 0; j < n; ++j) {
    const __m512 wj = _mm512_set1_ps(w[j]);
    const float* r = rows + int64_t(j) * d;
    for (int v = 0; v < V; ++v)
      acc[v] = _mm512_fmadd_ps(wj, _mm512_maskz_loadu_ps(v == V - 1 ? mask : __mmask16(0xffff), r + 16 * v), acc[v]);
  }
  for (int v = 0; v < V; ++v) _mm512_mask_storeu_ps(out + 16 * v, v == V - 1 ? mask : __mmask16(0xffff), acc[v]);
}

}  // namespace

void accumulate_weighted_rows_avx512(const float* w, int n, const float* rows, int d, float* out) {
  int k = 0;
  for (; d - k >= 128; k += 128) accumulate_columns<8>(w, n, rows + k, d, out + k, 0xffff);
  for (; d - k >= 16; k += 16) accumulate_columns<1>(w, n, rows + k, d, out + k, 0xffff);
  if (k < d) accumulate_columns<1>(w, n, rows + k, d, out + k, __mmask16((1u << (d - k)) - 1));
}

}  // namespace dsv4

DSV4_TARGET_END
