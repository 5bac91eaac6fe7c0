// AVX-512 weighted row sums for attention: the running sums of a block of columns of up to 4 heads stay
// in registers while the rows stream past, so each row is read once per block and group of heads.
#include <immintrin.h>

#include "kernels/attention.h"
#include "base/simd_target.h"

DSV4_TARGET_AVX512

namespace dsv4 {

namespace {

constexpr int kGroupHeads = 4;

// Columns [0, 16 · V) of H heads' outputs, every row; `mask` limits the last vector (a partial one at the
// tail).
template <int H, int V>
void accumulate_columns(const float* w, int64_t w_stride, int n, const float* rows, int d, float* out,
                        __mmask16 mask) {
  const auto lanes = [&](int v) { return v == V - 1 ? mask : __mmask16(0xffff); };
  __m512 acc[H][V];  // the loops are unrolled so that these stay in registers
#pragma GCC unroll 8
  for (int h = 0; h < H; ++h)
#pragma GCC unroll 8
    for (int v = 0; v < V; ++v) acc[h][v] = _mm512_maskz_loadu_ps(lanes(v), out + h * d + 16 * v);
  for (int j = 0; j < n; ++j) {
    const float* r = rows + int64_t(j) * d;
    __m512 x[V];
#pragma GCC unroll 8
    for (int v = 0; v < V; ++v) x[v] = _mm512_maskz_loadu_ps(lanes(v), r + 16 * v);
#pragma GCC unroll 8
    for (int h = 0; h < H; ++h) {
      const __m512 wj = _mm512_set1_ps(w[h * w_stride + j]);
#pragma GCC unroll 8
      for (int v = 0; v < V; ++v) acc[h][v] = _mm512_fmadd_ps(wj, x[v], acc[h][v]);
    }
  }
#pragma GCC unroll 8
  for (int h = 0; h < H; ++h)
#pragma GCC unroll 8
    for (int v = 0; v < V; ++v) _mm512_mask_storeu_ps(out + h * d + 16 * v, lanes(v), acc[h][v]);
}

// All d columns of H heads: blocks of 64 columns for a group (16 sums in registers), 128 for one head.
template <int H>
void accumulate_heads(const float* w, int64_t w_stride, int n, const float* rows, int d, float* out) {
  constexpr int V = H == 1 ? 8 : 4;
  int k = 0;
  for (; d - k >= 16 * V; k += 16 * V) accumulate_columns<H, V>(w, w_stride, n, rows + k, d, out + k, 0xffff);
  for (; d - k >= 16; k += 16) accumulate_columns<H, 1>(w, w_stride, n, rows + k, d, out + k, 0xffff);
  if (k < d) accumulate_columns<H, 1>(w, w_stride, n, rows + k, d, out + k, __mmask16((1u << (d - k)) - 1));
}

}  // namespace

void accumulate_weighted_rows_avx512(const float* w, int64_t w_stride, int heads, int n, const float* rows, int d,
                                     float* out) {
  int h = 0;
  for (; heads - h >= kGroupHeads; h += kGroupHeads)
    accumulate_heads<kGroupHeads>(w + h * w_stride, w_stride, n, rows, d, out + int64_t(h) * d);
  for (; h < heads; ++h) accumulate_heads<1>(w + h * w_stride, w_stride, n, rows, d, out + int64_t(h) * d);
}

}  // namespace dsv4

DSV4_TARGET_END
