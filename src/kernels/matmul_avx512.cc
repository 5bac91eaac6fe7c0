// AVX-512 matmul variant: FP32 FMA on 16-wide chunks for every weight format, in the canonical order of
// matmul_internal.h. (BF16 dot products were measured too: on some AVX-512 CPUs vdpbf16ps issues at
// half the FMA rate, and they would need their own order; FP32 FMA is the fastest everywhere we run.)
// Weight decoding, exact in FP32:
//   FP8  codes read as FP16 numbers (the value × 2^-8, subnormals included); block scale × 2^8 applied to
//        the activations by the GEMV (one scaled copy per 128-row block), to the decoded rows by the GEMM:
//        the same real product either way, so the same FMA result.
//   FP4  in the even/odd order: 16 elements of one 32-element scale block per chunk, through a 16-entry
//        table already multiplied by the block scale.
//   BF16 shifted into FP32; F32 as is.
// GEMV (≤ 4 activation rows, decode): four weight rows at a time, decoded in registers straight from the
// mapped checkpoint. GEMM (more rows, prefill): eight weight rows decoded once into a buffer, then 8 × 3
// register tiles over K slices that stay in L1, partial accumulators parked in a small buffer between
// slices. Both feed each output the same products in the same order.
// The instruction sets are enabled after the includes (base/simd_target.h).
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/float_formats.h"
#include "kernels/matmul_internal.h"
#include "kernels/quantize.h"
#include "base/simd_target.h"

DSV4_TARGET_AVX512

namespace dsv4::matmul_detail {

namespace {

constexpr int kGemvRows = 4;     // weight rows per GEMV step
constexpr int kTileRows = 6;     // weight rows per GEMM tile (6 × 4 measured best; 8 × 3 runs at half speed)
constexpr int kTileCols = 4;     // activation rows per GEMM tile
constexpr int64_t kTokenBlock = 12;  // GEMM activation rows per block (a multiple of kTileCols and kQTileCols)
constexpr int64_t kRowBlock = 36;    // GEMM weight rows decoded per block (a multiple of kTileRows)
constexpr int64_t kSlice = 512;  // GEMM K slice (floats)

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t padded(int64_t cols) { return ceil_div(cols, 16) * 16; }
inline __mmask16 first(int64_t n) { return __mmask16(n >= 16 ? 0xffff : (1u << n) - 1); }

// ---- weight decoding ------------------------------------------------------------------------------

inline __m512 e4m3x16(__m128i codes) {  // → the values × 2^-8
  // Sign-extended and shifted left by 7: magnitude in FP16 bits 7..13, the sign in bits 14 and up;
  // clearing bit 14 leaves the FP16 encoding of the value × 2^-8.
  const __m256i u = _mm256_slli_epi16(_mm256_cvtepi8_epi16(codes), 7);
  return _mm512_cvtph_ps(_mm256_and_si256(u, _mm256_set1_epi16(int16_t(0xbfff))));
}

// The 32 codes at p as two chunks, as e4m3x16 decodes them. The FP16 → FP32 conversions read the
// FP16 bits back from memory (`spill`, 64 bytes): that form of vcvtph2ps stays off the shuffle port, which
// the sign extension already loads; the compiler barrier keeps GCC from turning it into a register shuffle.
inline void e4m3x32(const uint8_t* p, uint16_t* spill, __m512 out[2]) {
  const __m512i u = _mm512_slli_epi16(_mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 7);
  _mm512_store_si512(spill, _mm512_and_si512(u, _mm512_set1_epi16(int16_t(0xbfff))));
  __asm__ volatile("" ::: "memory");
  out[0] = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(spill)));
  out[1] = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(spill + 16)));
}

// The GEMV walks R consecutive rows side by side. Rows are short (a 4096-column FP8 row is one 4 KiB
// page) and the hardware prefetcher stops at page ends, so it never ramps up: fetch the same offset of
// the next group of rows ourselves, one group ahead. Into L2 (T1), not L1: the BF16 GEMV streamed at
// 0.82 of a plain read with T0 and 0.88–0.95 with T1; FP8 and FP4 measured the same either way.
template <int R>
inline void prefetch_ahead(const uint8_t* row, int64_t row_bytes, int64_t offset) {
  _mm_prefetch(reinterpret_cast<const char*>(row + R * row_bytes + offset), _MM_HINT_T1);
}

inline float fp8_scale(const WeightMatrix& w, int64_t n, int64_t k) {
  return e8m0_to_f32(w.scale[(n / 128) * ceil_div(w.cols, 128) + k / 128]);
}

alignas(64) constexpr float kE2m1[16] = {0.0f,  0.5f,  1.0f,  1.5f,  2.0f,  3.0f,  4.0f,  6.0f,
                                         -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

int64_t row_bytes(const WeightMatrix& w) {
  switch (w.format) {
    case WeightFormat::kF32: return w.cols * 4;
    case WeightFormat::kBF16: return w.cols * 2;
    case WeightFormat::kFP8: return w.cols;
    case WeightFormat::kFP4: return w.cols / 2;
  }
  return 0;
}

// Bytes per weight of the formats stored a whole number of bytes per weight (not FP4).
template <WeightFormat F>
constexpr int64_t sizeof_element() {
  static_assert(F != WeightFormat::kFP4, "FP4 packs two weights per byte");
  return F == WeightFormat::kF32 ? 4 : F == WeightFormat::kBF16 ? 2 : 1;
}

// Chunk [k, k + 16) of a row (`row` = its first byte), masked past the end; FP8 without its scale (× 2^-8).
template <WeightFormat F>
inline __m512 chunk(const uint8_t* row, int64_t k, __mmask16 m) {
  if constexpr (F == WeightFormat::kF32) {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + k);
  } else if constexpr (F == WeightFormat::kBF16) {
    const __m256i h = _mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(row) + k);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  } else {
    return e4m3x16(_mm_maskz_loadu_epi8(m, row + k));
  }
}

// E8M0 scale bytes → floats, `count` (≤ 16) at a time (0 is 2^-127, a subnormal; 255 is NaN).
inline __m512 e8m0x16(const uint8_t* p, int64_t count) {
  const __m512i b = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(first(count), p));
  __m512i bits = _mm512_slli_epi32(b, 23);
  bits = _mm512_mask_mov_epi32(bits, _mm512_cmpeq_epi32_mask(b, _mm512_setzero_si512()), _mm512_set1_epi32(0x00400000));
  bits = _mm512_mask_mov_epi32(bits, _mm512_cmpeq_epi32_mask(b, _mm512_set1_epi32(255)), _mm512_set1_epi32(0x7fc00000));
  return _mm512_castsi512_ps(bits);
}

// FP4: the four chunks of a 64-chunk (positions 64c .. 64c+63 in the even/odd order) from its 32 bytes
// and its two block scales: out[0], out[2] from block 2c, out[1], out[3] from block 2c + 1.
inline void fp4_chunks(const uint8_t* bytes, float s0, float s1, __m512 out[4]) {
  const __m512 table = _mm512_load_ps(kE2m1);
  const float s[2] = {s0, s1};
#pragma GCC unroll 2
  for (int g = 0; g < 2; ++g) {  // 16 bytes = 32 elements = one scale block
    const __m512 lut = _mm512_mul_ps(table, _mm512_set1_ps(s[g]));
    const __m512i d = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + 16 * g)));
    out[g] = _mm512_permutexvar_ps(d, lut);                          // even elements: vpermps reads bits 0..3
    out[2 + g] = _mm512_permutexvar_ps(_mm512_srli_epi32(d, 4), lut);  // odd elements
  }
}

// ---- GEMV ---------------------------------------------------------------------------------------

// FP8: the activations with row block rb's scales (× 2^8) multiplied in. Others: the activations padded
// to whole chunks. [M][padded(cols)]
const float* gemv_activations(const WeightMatrix& w, const Prepared& a, int64_t rb) {
  thread_local AlignedBuffer<float> storage;
  const int64_t K = w.cols, P = padded(K);
  float* xs = storage.get(size_t(a.m * P));
  for (int64_t i = 0; i < a.m; ++i)
    for (int64_t k = 0; k < P; k += 16) {
      __m512 v = _mm512_maskz_loadu_ps(first(K - k), a.f32 + i * K + k);
      if (w.format == WeightFormat::kFP8) v = _mm512_mul_ps(v, _mm512_set1_ps(fp8_scale(w, rb * 128, k) * 256.0f));
      _mm512_store_ps(xs + i * P + k, v);
    }
  return xs;
}

// Rows [n, n + R) against M activation rows `x` ([M][padded(cols)]).
template <WeightFormat F, int R, int M>
void gemv(const WeightMatrix& w, const float* x, float* y, int64_t n) {
  const int64_t K = w.cols, P = padded(K), full = K / 16 * 16, bytes = row_bytes(w);
  const uint8_t* rows[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) rows[r] = static_cast<const uint8_t*>(w.data) + (n + r) * bytes;
  __m512 acc[R][M];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) acc[r][i] = _mm512_setzero_ps();
  if constexpr (F == WeightFormat::kFP4) {
    alignas(64) float scales[R][16];
    for (int64_t c = 0; c < K / 64; ++c) {
      if (c % 8 == 0)  // 16 scales cover 8 chunks of 64
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) _mm512_store_ps(scales[r], e8m0x16(w.scale + (n + r) * (K / 32) + 2 * c, K / 32 - 2 * c));
      __m512 xv[4][M];
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q)
#pragma GCC unroll 16
        for (int i = 0; i < M; ++i) xv[q][i] = _mm512_loadu_ps(x + i * P + 64 * c + 16 * q);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        __m512 wv[4];
        prefetch_ahead<R>(rows[r], bytes, 32 * c);
        fp4_chunks(rows[r] + 32 * c, scales[r][2 * (c % 8)], scales[r][2 * (c % 8) + 1], wv);
#pragma GCC unroll 4
        for (int q = 0; q < 4; ++q)
#pragma GCC unroll 16
          for (int i = 0; i < M; ++i) acc[r][i] = _mm512_fmadd_ps(wv[q], xv[q][i], acc[r][i]);
      }
    }
  } else {
    const auto step = [&](int64_t k, __mmask16 m) __attribute__((always_inline)) {
      __m512 xv[M];
#pragma GCC unroll 16
      for (int i = 0; i < M; ++i) xv[i] = _mm512_loadu_ps(x + i * P + k);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const __m512 wv = chunk<F>(rows[r], k, m);
#pragma GCC unroll 16
        for (int i = 0; i < M; ++i) acc[r][i] = _mm512_fmadd_ps(wv, xv[i], acc[r][i]);
      }
    };
    int64_t k = 0;
    if constexpr (F == WeightFormat::kFP8)
      for (; k + 32 <= full; k += 32) {  // two chunks per sign extension and mask
        __m512 wv[R][2];
        alignas(64) uint16_t spill[R][32];
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
          prefetch_ahead<R>(rows[r], bytes, k);
          e4m3x32(rows[r] + k, spill[r], wv[r]);
        }
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
          __m512 xv[M];
#pragma GCC unroll 16
          for (int i = 0; i < M; ++i) xv[i] = _mm512_loadu_ps(x + i * P + k + 16 * h);
#pragma GCC unroll 16
          for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
            for (int i = 0; i < M; ++i) acc[r][i] = _mm512_fmadd_ps(wv[r][h], xv[i], acc[r][i]);
        }
      }
    for (; k < full; k += 16) {  // the prefetch stays out of `step`: inside the lambda GCC 12 drops it
      if (k * sizeof_element<F>() % 64 == 0)
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) prefetch_ahead<R>(rows[r], bytes, k * sizeof_element<F>());
      step(k, 0xffff);
    }
    if (full < K) step(full, first(K - full));
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) y[i * w.rows + n + r] = _mm512_reduce_add_ps(acc[r][i]);
}

template <WeightFormat F, int M>
void gemv_rows(const WeightMatrix& w, const Prepared& a, float* y, int64_t n0, int64_t n1) {
  constexpr bool kFp8 = F == WeightFormat::kFP8;
  const float* x = kFp8 ? nullptr : gemv_activations(w, a, 0);
  for (int64_t n = n0; n < n1;) {
    const int64_t end = kFp8 ? std::min(n1, (n / 128 + 1) * 128) : n1;  // FP8 scales change every 128 rows
    if (kFp8) x = gemv_activations(w, a, n / 128);
    for (; n + kGemvRows <= end; n += kGemvRows) gemv<F, kGemvRows, M>(w, x, y, n);
    for (; n < end; ++n) gemv<F, 1, M>(w, x, y, n);
  }
}

template <int M>
void gemv_dispatch(const WeightMatrix& w, const Prepared& a, float* y, int64_t n0, int64_t n1) {
  switch (w.format) {
    case WeightFormat::kF32: return gemv_rows<WeightFormat::kF32, M>(w, a, y, n0, n1);
    case WeightFormat::kBF16: return gemv_rows<WeightFormat::kBF16, M>(w, a, y, n0, n1);
    case WeightFormat::kFP8: return gemv_rows<WeightFormat::kFP8, M>(w, a, y, n0, n1);
    case WeightFormat::kFP4: return gemv_rows<WeightFormat::kFP4, M>(w, a, y, n0, n1);
  }
}

// ---- GEMM ---------------------------------------------------------------------------------------

// Row n decoded into `out` [padded(cols)]: every scale multiplied in, zeros past the end.
void decode_row(const WeightMatrix& w, int64_t n, float* out) {
  const uint8_t* row = static_cast<const uint8_t*>(w.data) + n * row_bytes(w);
  if (w.format == WeightFormat::kFP4) {
    const uint8_t* sr = w.scale + n * (w.cols / 32);
    for (int64_t c = 0; c < w.cols / 64; ++c) {
      __m512 v[4];
      fp4_chunks(row + 32 * c, e8m0_to_f32(sr[2 * c]), e8m0_to_f32(sr[2 * c + 1]), v);
      for (int q = 0; q < 4; ++q) _mm512_storeu_ps(out + 64 * c + 16 * q, v[q]);
    }
    return;
  }
  if (w.format == WeightFormat::kFP8) {  // one scale per 128 columns, two chunks per sign extension
    alignas(64) uint16_t spill[32];
    for (int64_t k0 = 0; k0 < w.cols; k0 += 128) {
      const __m512 scale = _mm512_set1_ps(fp8_scale(w, n, k0) * 256.0f);
      const int64_t k1 = std::min(w.cols, k0 + 128);
      int64_t k = k0;
      for (; k + 32 <= k1; k += 32) {
        __m512 v[2];
        e4m3x32(row + k, spill, v);
        _mm512_storeu_ps(out + k, _mm512_mul_ps(v[0], scale));
        _mm512_storeu_ps(out + k + 16, _mm512_mul_ps(v[1], scale));
      }
      for (; k < k1; k += 16)
        _mm512_storeu_ps(out + k, _mm512_mul_ps(chunk<WeightFormat::kFP8>(row, k, first(w.cols - k)), scale));
    }
    return;
  }
  for (int64_t k = 0; k < padded(w.cols); k += 16) {
    const __mmask16 m = first(w.cols - k);
    _mm512_storeu_ps(out + k, w.format == WeightFormat::kF32 ? chunk<WeightFormat::kF32>(row, k, m)
                                                              : chunk<WeightFormat::kBF16>(row, k, m));
  }
}

// The decoded-row buffer's row stride: padded, plus one cache line so that rows do not all fall in the
// same L1 sets (K × 4 bytes is a multiple of 4 KiB for every real model).
int64_t buffer_stride(int64_t cols) { return padded(cols) + 16; }

// Adds K slice [k0, k1) of R decoded rows × C activation rows (from i0) to the partial accumulators
// `part` ([R][C][16]); the last slice reduces them into y.
template <int R, int C>
void tile(const WeightMatrix& w, const float* wbuf, const Prepared& a, int64_t i0, int64_t k0, int64_t k1,
          float* part, float* y, int64_t n) {
  const int64_t P = padded(w.cols), K = w.cols, stride = buffer_stride(K);
  __m512 acc[R][C];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < C; ++c) acc[r][c] = k0 == 0 ? _mm512_setzero_ps() : _mm512_load_ps(part + (r * C + c) * 16);
  const float* xr[C];
#pragma GCC unroll 16
  for (int c = 0; c < C; ++c) xr[c] = a.f32 + (i0 + c) * K;
  const auto step = [&](int64_t k, __mmask16 m) __attribute__((always_inline)) {
    __m512 x[C];
#pragma GCC unroll 16
    for (int c = 0; c < C; ++c) x[c] = _mm512_maskz_loadu_ps(m, xr[c] + k);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512 wv = _mm512_loadu_ps(wbuf + r * stride + k);
#pragma GCC unroll 16
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_fmadd_ps(wv, x[c], acc[r][c]);
    }
  };
  const int64_t full = std::min(k1, K / 16 * 16);
  for (int64_t k = k0; k < full; k += 16) step(k, 0xffff);
  if (full < k1) step(full, first(K - full));
  if (k1 < P) {
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
      for (int c = 0; c < C; ++c) _mm512_store_ps(part + (r * C + c) * 16, acc[r][c]);
    return;
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < C; ++c) y[(i0 + c) * w.rows + n + r] = _mm512_reduce_add_ps(acc[r][c]);
}

// Tiles of R weight rows over activation rows [t0, t1), for one K slice.
template <int R>
void tile_run(const WeightMatrix& w, const float* wb, const Prepared& a, int64_t t0, int64_t t1, int64_t k0,
              int64_t k1, float* p, float* y, int64_t n) {
  int64_t i = t0;
  for (; i + kTileCols <= t1; i += kTileCols, p += R * kTileCols * 16) tile<R, kTileCols>(w, wb, a, i, k0, k1, p, y, n);
  switch (t1 - i) {
    case 3: return tile<R, 3>(w, wb, a, i, k0, k1, p, y, n);
    case 2: return tile<R, 2>(w, wb, a, i, k0, k1, p, y, n);
    case 1: return tile<R, 1>(w, wb, a, i, k0, k1, p, y, n);
  }
}
static_assert(kTileCols == 4, "tile_run handles remainders of up to 3 activation rows");

// Each block of weight rows is decoded once and then meets every activation row (decoding it again per
// token block cost 40 % of the FP8 GEMM). Within it, a K slice of a token block (12 rows × 2 KiB) and of
// a tile's weight rows stay in L1 while the tiles sweep over them.
void gemm_rows(const WeightMatrix& w, const Prepared& a, float* y, int64_t n0, int64_t n1) {
  const int64_t P = padded(w.cols), stride = buffer_stride(w.cols);
  thread_local AlignedBuffer<float> buf_storage, part_storage;
  float* buf = buf_storage.get(size_t(kRowBlock * stride));
  float* parts = part_storage.get(size_t(kRowBlock * (kTokenBlock + kTileCols) * 16));
  for (int64_t nb = n0; nb < n1; nb += kRowBlock) {
    const int rows = int(std::min<int64_t>(kRowBlock, n1 - nb));
    for (int r = 0; r < rows; ++r) decode_row(w, nb + r, buf + r * stride);
    for (int64_t t0 = 0; t0 < a.m; t0 += kTokenBlock) {
      const int64_t t1 = std::min(a.m, t0 + kTokenBlock);
      for (int64_t k0 = 0; k0 < P; k0 += kSlice) {
        const int64_t k1 = std::min(P, k0 + kSlice);
        for (int r = 0; r < rows;) {
          const int R = rows - r >= kTileRows ? kTileRows : 1;
          const float* wb = buf + r * stride;
          float* p = parts + r * (kTokenBlock + kTileCols) * 16;
          if (R == kTileRows) tile_run<kTileRows>(w, wb, a, t0, t1, k0, k1, p, y, nb + r);
          else tile_run<1>(w, wb, a, t0, t1, k0, k1, p, y, nb + r);
          r += R;
        }
      }
    }
  }
}

// ---- FP4 weights × FP8-quantized activations: 16-bit integer dot products ------------------------
// Both operands are small integers times powers of two: an e4m3 code q is a·2^-9 with |a| ≤ 448·2^9,
// an e2m1 weight is w2/2 with w2 in [-12, 12]. vpdpwssd multiplies 32 pairs of 16-bit integers per
// instruction and decodes nothing to FP32, so the bottleneck of the FP32 path (one table shuffle per 16
// weights) goes away. a needs 19 bits, so it is split as a = 8·hi + lo (lo in [0, 8)); hi alone is exact
// for every code of magnitude ≥ 1/8, and the lo products are only computed for chunks that need them.
// Order per output: 128-element chunks c in turn; lane l of a chunk sums elements 8l .. 8l+7 exactly in
// 32-bit integers, is converted to FP32 (round to nearest even), multiplied by the activation scale (a
// power of two, exact) and added into FP32 lane l by one FMA with the weight scale of its 32-block;
// the 16 lanes are reduced at the end. Skipping lo where it is zero changes no bit: 8·hi is a multiple
// of 8 below 2^27, which FP32 holds exactly.

constexpr int64_t kChunk = 128;  // one activation scale, four weight scales, 64 bytes of codes

// 2·e2m1 as 16-bit integers, twice: vpermw reads 5 index bits, the fifth is the next code's.
alignas(64) constexpr int16_t kE2m1Twice[32] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12,
                                                0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// The activation rows in integer form. Per row and chunk, hi and lo are stored transposed, [t][j] =
// element 4j + t: the order in which fp4_words decodes a 64-byte run of codes.
struct Fp4Activations {
  int64_t m = 0;
  int16_t *hi = nullptr, *lo = nullptr;  // [m][cols], in hi_storage and lo_storage
  std::vector<float> scale;              // [m][chunks][2]: s·2^-7 (hi alone), s·2^-10 (8·hi + lo)
  std::vector<uint8_t> needs_lo;         // [m][chunks]
  AlignedBuffer<int16_t> hi_storage, lo_storage;
};

// The 32 values v[4j + t], j = 0..31, of a chunk held as 8 vectors of 16 (int32) → 16-bit integers.
inline __m512i gather_t(const __m512i v[8], int t) {
  const __m512i idx = _mm512_add_epi32(_mm512_set_epi32(28, 24, 20, 16, 12, 8, 4, 0, 28, 24, 20, 16, 12, 8, 4, 0),
                                       _mm512_set1_epi32(t));
  __m256i half[2];
  for (int h = 0; h < 2; ++h) {  // elements 64h .. 64h + 63: lanes 0..7 from v[4h], v[4h+1], 8..15 from the next two
    const __m512i a = _mm512_permutex2var_epi32(v[4 * h], idx, v[4 * h + 1]);
    const __m512i b = _mm512_permutex2var_epi32(v[4 * h + 2], idx, v[4 * h + 3]);
    half[h] = _mm512_cvtepi32_epi16(_mm512_mask_blend_epi32(0xff00, a, b));
  }
  return _mm512_inserti64x4(_mm512_castsi256_si512(half[0]), half[1], 1);
}

bool prepare(const WeightMatrix& w, const float* x, int64_t m, int slot, Prepared& p) {
  if (w.format != WeightFormat::kFP4 || !w.quantize_input) return false;
  thread_local std::vector<std::unique_ptr<Fp4Activations>> slots;  // pointers: a grown vector keeps them
  while (int(slots.size()) <= slot) slots.push_back(std::make_unique<Fp4Activations>());
  Fp4Activations& a = *slots[size_t(slot)];
  thread_local std::vector<float> values, block_scale;
  const int64_t K = w.cols, chunks = K / kChunk;
  a.m = m;
  a.hi = a.hi_storage.get(size_t(m * K));
  a.lo = a.lo_storage.get(size_t(m * K));
  a.scale.resize(size_t(m * chunks * 2));
  a.needs_lo.resize(size_t(m * chunks));
  values.resize(size_t(K));
  block_scale.resize(size_t(chunks));
  for (int64_t i = 0; i < m; ++i) {
    act_quant_fp8_values(x + i * K, K, int(kChunk), values.data(), block_scale.data());
    for (int64_t c = 0; c < chunks; ++c) {
      __m512i hi[8], lo[8];
      __mmask16 nan = 0, any_lo = 0;
      for (int k = 0; k < 8; ++k) {
        const __m512 q = _mm512_loadu_ps(&values[size_t(c * kChunk + 16 * k)]);
        nan |= _mm512_cmp_ps_mask(q, q, _CMP_UNORD_Q);
        const __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(q, _mm512_set1_ps(512.0f)));  // exact
        hi[k] = _mm512_srai_epi32(v, 3);
        lo[k] = _mm512_and_si512(v, _mm512_set1_epi32(7));
        any_lo |= _mm512_test_epi32_mask(lo[k], lo[k]);
      }
      if (nan) return false;  // NaN input: the FP32 path propagates it
      int16_t* hi_out = &a.hi[size_t(i * K + c * kChunk)];
      int16_t* lo_out = &a.lo[size_t(i * K + c * kChunk)];
      for (int t = 0; t < 4; ++t) {
        _mm512_storeu_si512(hi_out + 32 * t, gather_t(hi, t));
        _mm512_storeu_si512(lo_out + 32 * t, gather_t(lo, t));  // read when another row of the tile needs it
      }
      a.needs_lo[size_t(i * chunks + c)] = any_lo != 0;
      a.scale[size_t((i * chunks + c) * 2)] = block_scale[size_t(c)] * 0x1p-7f;
      a.scale[size_t((i * chunks + c) * 2 + 1)] = block_scale[size_t(c)] * 0x1p-10f;
    }
  }
  p.own = &a;
  return true;
}

// The 128 codes of a 64-byte run as four vectors of 2·e2m1: out[t] word j = element 4j + t.
inline void fp4_words(const uint8_t* p, __m512i lut, __m512i out[4]) {
  const __m512i codes = _mm512_loadu_si512(p);
  out[0] = _mm512_permutexvar_epi16(codes, lut);
  out[1] = _mm512_permutexvar_epi16(_mm512_srli_epi16(codes, 4), lut);
  out[2] = _mm512_permutexvar_epi16(_mm512_srli_epi16(codes, 8), lut);
  out[3] = _mm512_permutexvar_epi16(_mm512_srli_epi16(codes, 12), lut);
}

// Lane sums of one chunk: weights (decoded) · activation integers (transposed, 128 at v).
inline __m512i chunk_dot(const __m512i wt[4], const int16_t* v) {
  __m512i s = _mm512_dpwssd_epi32(_mm512_setzero_si512(), wt[0], _mm512_loadu_si512(v));
  s = _mm512_dpwssd_epi32(s, wt[1], _mm512_loadu_si512(v + 32));
  s = _mm512_dpwssd_epi32(s, wt[2], _mm512_loadu_si512(v + 64));
  return _mm512_dpwssd_epi32(s, wt[3], _mm512_loadu_si512(v + 96));
}

// One chunk's contribution for activation row i: the lane sums as FP32 times the activation scale.
inline __m512 chunk_value(const __m512i wt[4], const Fp4Activations& a, int64_t cols, int64_t i, int64_t c,
                          bool with_lo) {
  const int64_t chunks = cols / kChunk, at = i * cols + c * kChunk;
  __m512i s = chunk_dot(wt, &a.hi[size_t(at)]);
  if (with_lo) s = _mm512_add_epi32(_mm512_slli_epi32(s, 3), chunk_dot(wt, &a.lo[size_t(at)]));
  const float scale = a.scale[size_t((i * chunks + c) * 2 + (with_lo ? 1 : 0))];
  return _mm512_mul_ps(_mm512_cvtepi32_ps(s), _mm512_set1_ps(scale));
}

// Lane l of chunk c takes weight scale 4c + l / 4: the lanes of `scales16` (scales 4·(c - c%4) ...) spread.
inline __m512 lane_scales(__m512 scales16, int64_t c) {
  const __m512i block = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
  return _mm512_permutexvar_ps(_mm512_add_epi32(block, _mm512_set1_epi32(int(4 * (c % 4)))), scales16);
}

// GEMV: rows [n, n + R) against all M activation rows.
template <int R, int M>
void gemv_fp4q(const WeightMatrix& w, const Fp4Activations& a, float* y, int64_t n) {
  const int64_t K = w.cols, chunks = K / kChunk, bytes = K / 2, n_scales = K / 32;
  const __m512i lut = _mm512_load_si512(kE2m1Twice);
  const uint8_t* rows[R];
  __m512 acc[R][M], scales[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    rows[r] = static_cast<const uint8_t*>(w.data) + (n + r) * bytes;
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) acc[r][i] = _mm512_setzero_ps();
  }
  for (int64_t c = 0; c < chunks; ++c) {
    if (c % 4 == 0)
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) scales[r] = e8m0x16(w.scale + (n + r) * n_scales + 4 * c, n_scales - 4 * c);
    bool with_lo = false;
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) with_lo |= a.needs_lo[size_t(i * chunks + c)] != 0;
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      prefetch_ahead<R>(rows[r], bytes, 64 * c);
      __m512i wt[4];
      fp4_words(rows[r] + 64 * c, lut, wt);
      const __m512 ws = lane_scales(scales[r], c);
#pragma GCC unroll 16
      for (int i = 0; i < M; ++i) acc[r][i] = _mm512_fmadd_ps(chunk_value(wt, a, K, i, c, with_lo), ws, acc[r][i]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) y[i * w.rows + n + r] = _mm512_reduce_add_ps(acc[r][i]);
}

template <int M>
void gemv_fp4q_rows(const WeightMatrix& w, const Fp4Activations& a, float* y, int64_t n0, int64_t n1) {
  int64_t n = n0;
  for (; n + kGemvRows <= n1; n += kGemvRows) gemv_fp4q<kGemvRows, M>(w, a, y, n);
  for (; n < n1; ++n) gemv_fp4q<1, M>(w, a, y, n);
}

// GEMM: weight rows decoded once per row block into 2·e2m1 words (chunk layout as fp4_words) with
// their lane scales beside them, then tiles of R weight rows × C activation rows over all chunks.
constexpr int kQTileRows = 4, kQTileCols = 3;  // 12 accumulators + 12 activation vectors + 4 scales

struct Fp4Decoded {
  int16_t* words = nullptr;  // [rows][cols]
  float* scales = nullptr;   // [rows][chunks][16]
  AlignedBuffer<int16_t> words_storage;
  AlignedBuffer<float> scales_storage;
};

void decode_fp4_rows(const WeightMatrix& w, int64_t n, int rows, Fp4Decoded& d) {
  const int64_t K = w.cols, chunks = K / kChunk, n_scales = K / 32;
  const __m512i lut = _mm512_load_si512(kE2m1Twice);
  d.words = d.words_storage.get(size_t(rows * K));
  d.scales = d.scales_storage.get(size_t(rows * chunks * 16));
  for (int r = 0; r < rows; ++r) {
    const uint8_t* row = static_cast<const uint8_t*>(w.data) + (n + r) * (K / 2);
    const uint8_t* sr = w.scale + (n + r) * n_scales;
    __m512 s16 = _mm512_setzero_ps();
    for (int64_t c = 0; c < chunks; ++c) {
      __m512i wt[4];
      fp4_words(row + 64 * c, lut, wt);
      for (int t = 0; t < 4; ++t) _mm512_storeu_si512(&d.words[size_t(r * K + c * kChunk + 32 * t)], wt[t]);
      if (c % 4 == 0) s16 = e8m0x16(sr + 4 * c, n_scales - 4 * c);
      _mm512_storeu_ps(&d.scales[size_t((r * chunks + c) * 16)], lane_scales(s16, c));
    }
  }
}

template <int R, int C>
void gemm_fp4q_tile(const Fp4Decoded& d, const Fp4Activations& a, int64_t K, int64_t r0, int64_t i0,
                    float* y, int64_t out_rows, int64_t n) {
  const int64_t chunks = K / kChunk;
  __m512 acc[R][C];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int j = 0; j < C; ++j) acc[r][j] = _mm512_setzero_ps();
  for (int64_t c = 0; c < chunks; ++c) {
    bool with_lo = false;
#pragma GCC unroll 16
    for (int j = 0; j < C; ++j) with_lo |= a.needs_lo[size_t((i0 + j) * chunks + c)] != 0;
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      __m512i wt[4];
#pragma GCC unroll 4
      for (int t = 0; t < 4; ++t) wt[t] = _mm512_loadu_si512(&d.words[size_t((r0 + r) * K + c * kChunk + 32 * t)]);
      const __m512 ws = _mm512_loadu_ps(&d.scales[size_t(((r0 + r) * chunks + c) * 16)]);
#pragma GCC unroll 16
      for (int j = 0; j < C; ++j)
        acc[r][j] = _mm512_fmadd_ps(chunk_value(wt, a, K, i0 + j, c, with_lo), ws, acc[r][j]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int j = 0; j < C; ++j) y[(i0 + j) * out_rows + n + r0 + r] = _mm512_reduce_add_ps(acc[r][j]);
}

template <int R>
void gemm_fp4q_tiles(const Fp4Decoded& d, const Fp4Activations& a, int64_t K, int64_t r0, int64_t t0, int64_t t1,
                     float* y, int64_t out_rows, int64_t n) {
  int64_t i = t0;
  for (; i + kQTileCols <= t1; i += kQTileCols) gemm_fp4q_tile<R, kQTileCols>(d, a, K, r0, i, y, out_rows, n);
  switch (t1 - i) {
    case 2: return gemm_fp4q_tile<R, 2>(d, a, K, r0, i, y, out_rows, n);
    case 1: return gemm_fp4q_tile<R, 1>(d, a, K, r0, i, y, out_rows, n);
  }
}
static_assert(kQTileCols == 3, "gemm_fp4q_tiles handles remainders of up to 2 activation rows");

void gemm_fp4q_rows(const WeightMatrix& w, const Fp4Activations& a, float* y, int64_t n0, int64_t n1) {
  thread_local Fp4Decoded d;
  for (int64_t nb = n0; nb < n1; nb += kRowBlock) {
    const int rows = int(std::min<int64_t>(kRowBlock, n1 - nb));
    decode_fp4_rows(w, nb, rows, d);
    for (int64_t t0 = 0; t0 < a.m; t0 += kTokenBlock) {
      const int64_t t1 = std::min(a.m, t0 + kTokenBlock);
      int r = 0;
      for (; r + kQTileRows <= rows; r += kQTileRows) gemm_fp4q_tiles<kQTileRows>(d, a, w.cols, r, t0, t1, y, w.rows, nb);
      for (; r < rows; ++r) gemm_fp4q_tiles<1>(d, a, w.cols, r, t0, t1, y, w.rows, nb);
    }
  }
}

void fp4q_rows(const WeightMatrix& w, const Fp4Activations& a, float* y, int64_t n0, int64_t n1) {
  switch (a.m) {
    case 1: return gemv_fp4q_rows<1>(w, a, y, n0, n1);
    case 2: return gemv_fp4q_rows<2>(w, a, y, n0, n1);
    case 3: return gemv_fp4q_rows<3>(w, a, y, n0, n1);
    case 4: return gemv_fp4q_rows<4>(w, a, y, n0, n1);
    default: return gemm_fp4q_rows(w, a, y, n0, n1);
  }
}

void rows(const WeightMatrix& w, const Prepared& a, float* y, int64_t n0, int64_t n1) {
  if (a.own) return fp4q_rows(w, *static_cast<const Fp4Activations*>(a.own), y, n0, n1);
  switch (a.m) {
    case 1: return gemv_dispatch<1>(w, a, y, n0, n1);
    case 2: return gemv_dispatch<2>(w, a, y, n0, n1);
    case 3: return gemv_dispatch<3>(w, a, y, n0, n1);
    case 4: return gemv_dispatch<4>(w, a, y, n0, n1);
    default: return gemm_rows(w, a, y, n0, n1);
  }
}

}  // namespace

}  // namespace dsv4::matmul_detail

DSV4_TARGET_END

namespace dsv4::matmul_detail {
const Variant kAvx512 = {rows, prepare};
}  // namespace dsv4::matmul_detail
