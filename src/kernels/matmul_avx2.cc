// AVX2 + FMA + F16C matmul variant, for machines without AVX-512: FP32 products on 8-wide chunks in the
// canonical order of matmul_internal.h (8 lanes here). GEMV decodes four weight rows at a time in
// registers; GEMM decodes four rows into a buffer and runs 4 × 3 tiles. The instruction sets are enabled
// after the includes (base/simd_target.h).
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/float_formats.h"
#include "kernels/matmul_internal.h"
#include "base/simd_target.h"

DSV4_TARGET_AVX2

namespace dsv4::matmul_detail {

namespace {

constexpr int kRows = 4;   // weight rows per GEMV step and per GEMM tile
constexpr int kTileCols = 3;
constexpr int64_t kGroup = 64;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

inline __m256i mask_of(int64_t n) {  // first min(n, 8) lanes
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(std::min<int64_t>(n, 8))), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

inline float hsum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

inline uint64_t load_bytes(const uint8_t* p, int64_t n) {  // up to 8 bytes, zero past n
  uint64_t v = 0;
  std::memcpy(&v, p, size_t(std::min<int64_t>(n, 8)));
  return v;
}

// FP32 chunk [k, k + 8) of row n in kernel order (FP4: the even/odd order), block scales multiplied in.
inline __m256 chunk(const WeightMatrix& w, int64_t n, int64_t k) {
  const int64_t left = w.cols - k;
  switch (w.format) {
    case WeightFormat::kF32:
      return _mm256_maskload_ps(static_cast<const float*>(w.data) + n * w.cols + k, mask_of(left));
    case WeightFormat::kBF16: {
      uint16_t h[8] = {};
      std::memcpy(h, static_cast<const uint16_t*>(w.data) + n * w.cols + k, size_t(std::min<int64_t>(left, 8)) * 2);
      return _mm256_castsi256_ps(
          _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h))), 16));
    }
    case WeightFormat::kFP8: {
      const __m128i b = _mm_cvtsi64_si128(int64_t(load_bytes(static_cast<const uint8_t*>(w.data) + n * w.cols + k, left)));
      const __m128i u = _mm_slli_epi16(_mm_cvtepu8_epi16(b), 7);  // the codes as FP16: value × 2^-8
      const __m256 v = _mm256_cvtph_ps(_mm_add_epi16(u, _mm_and_si128(u, _mm_set1_epi16(0x4000))));
      const float s = e8m0_to_f32(w.scale[(n / 128) * ceil_div(w.cols, 128) + k / 128]) * 256.0f;
      return _mm256_mul_ps(v, _mm256_set1_ps(s));
    }
    case WeightFormat::kFP4: {
      const int64_t c = k & ~int64_t(63), j = (k & 63) / 8;  // chunk j of 8 within the 64-chunk
      const bool odd = j >= 4;
      const int64_t byte0 = c / 2 + 8 * (j & 3);  // bytes holding these 8 elements
      const __m256i d = _mm256_cvtepu8_epi32(
          _mm_cvtsi64_si128(int64_t(load_bytes(static_cast<const uint8_t*>(w.data) + n * (w.cols / 2) + byte0, 8))));
      const __m256i codes = odd ? _mm256_srli_epi32(d, 4) : _mm256_and_si256(d, _mm256_set1_epi32(15));
      const __m256 table = _mm256_setr_ps(0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f);
      const __m256 mag = _mm256_permutevar8x32_ps(table, _mm256_and_si256(codes, _mm256_set1_epi32(7)));
      const __m256 v = _mm256_xor_ps(mag, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_and_si256(codes, _mm256_set1_epi32(8)), 28)));
      const float s = e8m0_to_f32(w.scale[n * (w.cols / 32) + (c + 2 * 8 * (j & 3)) / 32]);
      return _mm256_mul_ps(v, _mm256_set1_ps(s));
    }
  }
  return _mm256_setzero_ps();
}

template <int R, int M>
void gemv(const WeightMatrix& w, const Prepared& a, float* y, int64_t n) {
  __m256 acc[R][M];
  #pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 16
    for (int i = 0; i < M; ++i) acc[r][i] = _mm256_setzero_ps();
  for (int64_t k = 0; k < w.cols; k += 8) {
    __m256 x[M];
    #pragma GCC unroll 16
    for (int i = 0; i < M; ++i) x[i] = _mm256_maskload_ps(a.f32 + i * w.cols + k, mask_of(w.cols - k));
    #pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m256 wv = chunk(w, n + r, k);
      #pragma GCC unroll 16
      for (int i = 0; i < M; ++i) acc[r][i] = _mm256_fmadd_ps(wv, x[i], acc[r][i]);
    }
  }
  #pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 16
    for (int i = 0; i < M; ++i) y[i * w.rows + n + r] = hsum(acc[r][i]);
}

template <int M>
void gemv_rows(const WeightMatrix& w, const Prepared& a, float* y, int64_t n0, int64_t n1) {
  int64_t n = n0;
  for (; n + kRows <= n1; n += kRows) gemv<kRows, M>(w, a, y, n);
  for (; n < n1; ++n) gemv<1, M>(w, a, y, n);
}

template <int R, int C>
void tile(const WeightMatrix& w, const float* buf, int64_t stride, const Prepared& a, int64_t i0, float* y,
          int64_t n) {
  __m256 acc[R][C];
  #pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 16
    for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
  for (int64_t k = 0; k < w.cols; k += 8) {
    __m256 x[C];
    #pragma GCC unroll 16
    for (int c = 0; c < C; ++c) x[c] = _mm256_maskload_ps(a.f32 + (i0 + c) * w.cols + k, mask_of(w.cols - k));
    #pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m256 wv = _mm256_loadu_ps(buf + r * stride + k);
      #pragma GCC unroll 16
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_fmadd_ps(wv, x[c], acc[r][c]);
    }
  }
  #pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 16
    for (int c = 0; c < C; ++c) y[(i0 + c) * w.rows + n + r] = hsum(acc[r][c]);
}

template <int R>
void tiles(const WeightMatrix& w, const float* buf, int64_t stride, const Prepared& a, int64_t i0, int64_t i1,
           float* y, int64_t n) {
  int64_t i = i0;
  for (; i + kTileCols <= i1; i += kTileCols) tile<R, kTileCols>(w, buf, stride, a, i, y, n);
  if (i1 - i == 2) tile<R, 2>(w, buf, stride, a, i, y, n);
  if (i1 - i == 1) tile<R, 1>(w, buf, stride, a, i, y, n);
}

void gemm_rows(const WeightMatrix& w, const Prepared& a, float* y, int64_t n0, int64_t n1) {
  const int64_t stride = ceil_div(w.cols, 8) * 8;
  thread_local AlignedBuffer<float> storage;
  float* buf = storage.get(size_t(kRows * stride));
  for (int64_t i0 = 0; i0 < a.m; i0 += kGroup) {
    const int64_t i1 = std::min(a.m, i0 + kGroup);
    for (int64_t n = n0; n < n1; n += kRows) {
      const int R = int(std::min<int64_t>(kRows, n1 - n));
      #pragma GCC unroll 16
      for (int r = 0; r < R; ++r)
        for (int64_t k = 0; k < w.cols; k += 8) _mm256_storeu_ps(buf + r * stride + k, chunk(w, n + r, k));
      if (R == kRows) {
        tiles<kRows>(w, buf, stride, a, i0, i1, y, n);
      } else {
        #pragma GCC unroll 16
        for (int r = 0; r < R; ++r) tiles<1>(w, buf + r * stride, stride, a, i0, i1, y, n + r);
      }
    }
  }
}

void rows(const WeightMatrix& w, const Prepared& a, float* y, int64_t n0, int64_t n1) {
  switch (a.m) {
    case 1: return gemv_rows<1>(w, a, y, n0, n1);
    case 2: return gemv_rows<2>(w, a, y, n0, n1);
    case 3: return gemv_rows<3>(w, a, y, n0, n1);
    case 4: return gemv_rows<4>(w, a, y, n0, n1);
    default: return gemm_rows(w, a, y, n0, n1);
  }
}

}  // namespace

}  // namespace dsv4::matmul_detail

DSV4_TARGET_END

namespace dsv4::matmul_detail {
const Variant kAvx2 = {rows, nullptr};
}  // namespace dsv4::matmul_detail
