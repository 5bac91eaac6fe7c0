// AVX-512 block quantizers: the same results as quantize.cc bit for bit (rounding to the e4m3 / e2m1
// grids is exact arithmetic; the scale is computed the same way), 16 values per instruction.
#include <immintrin.h>

#include <cstdint>

#include "base/float_formats.h"
#include "kernels/quantize.h"
#include "kernels/quantize_internal.h"
#include "base/simd_target.h"

DSV4_TARGET_AVX512

namespace dsv4::quantize_detail {

namespace {

float block_amax(const float* x, int n, float floor) {
  __m512 m = _mm512_setzero_ps();
  for (int i = 0; i < n; i += 16) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + i)));
  const float a = _mm512_reduce_max_ps(m);
  return a > floor ? a : floor;
}

// |v| ≤ 448 rounded to the nearest e4m3 value, ties to even (v already clamped).
inline __m512 round_e4m3(__m512 v) {
  const __m512 a = _mm512_abs_ps(v);
  const __m512i bits = _mm512_castps_si512(a);
  // Normal range: keep 3 mantissa bits, nearest-even on the 20 dropped ones.
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 20), _mm512_set1_epi32(1));
  const __m512i r = _mm512_and_si512(_mm512_add_epi32(bits, _mm512_add_epi32(_mm512_set1_epi32(0x7ffff), lsb)),
                                     _mm512_set1_epi32(int(0xfff00000u)));
  // Below 2^-6 e4m3 is a fixed grid of 2^-9.
  const __m512 sub = _mm512_mul_ps(_mm512_roundscale_ps(_mm512_mul_ps(a, _mm512_set1_ps(512.0f)),
                                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC),
                                   _mm512_set1_ps(1.0f / 512.0f));
  const __mmask16 small = _mm512_cmp_ps_mask(a, _mm512_set1_ps(0.015625f), _CMP_LT_OQ);
  const __m512 mag = _mm512_mask_blend_ps(small, _mm512_castsi512_ps(r), sub);
  return _mm512_or_ps(mag, _mm512_and_ps(v, _mm512_castsi512_ps(_mm512_set1_epi32(int(0x80000000u)))));
}

// |v| ≤ 6 rounded to the nearest e2m1 value, ties to even: grids of 0.5 below 2, 1 below 4, 2 above.
inline __m512 round_e2m1(__m512 v) {
  const __m512 a = _mm512_abs_ps(v);
  const __mmask16 lt2 = _mm512_cmp_ps_mask(a, _mm512_set1_ps(2.0f), _CMP_LT_OQ);
  const __mmask16 lt4 = _mm512_cmp_ps_mask(a, _mm512_set1_ps(4.0f), _CMP_LT_OQ);
  __m512 k = _mm512_set1_ps(0.5f);
  k = _mm512_mask_blend_ps(lt4, k, _mm512_set1_ps(1.0f));
  k = _mm512_mask_blend_ps(lt2, k, _mm512_set1_ps(2.0f));
  const __m512 mag = _mm512_div_ps(
      _mm512_roundscale_ps(_mm512_mul_ps(a, k), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), k);
  return _mm512_or_ps(mag, _mm512_and_ps(v, _mm512_castsi512_ps(_mm512_set1_epi32(int(0x80000000u)))));
}

// Per block: out = round(clamp(x / s)) · (kScaled ? s : 1), and the scale s into scales[b] if given.
template <bool kFp4, bool kScaled>
void quantize(const float* x, int64_t n, int block, float* out, float* scales) {
  const float max = kFp4 ? kFp4Max : kFp8Max, floor = kFp4 ? kFp4AmaxFloor : kFp8AmaxFloor;
  for (int64_t b = 0; b < n / block; ++b) {
    const float* xb = x + b * block;
    const float s = pow2_scale(block_amax(xb, block, floor), 1.0f / max);
    if (scales) scales[b] = s;
    const __m512 inv = _mm512_set1_ps(1.0f / s), sv = _mm512_set1_ps(s);  // s is a power of two: exact
    for (int i = 0; i < block; i += 16) {
      __m512 v = _mm512_mul_ps(_mm512_loadu_ps(xb + i), inv);
      v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-max)), _mm512_set1_ps(max));
      v = kFp4 ? round_e2m1(v) : round_e4m3(v);
      _mm512_storeu_ps(out + b * block + i, kScaled ? _mm512_mul_ps(v, sv) : v);
    }
  }
}

}  // namespace

void fp8_simulate_avx512(float* x, int64_t n, int block) { quantize<false, true>(x, n, block, x, nullptr); }
void fp4_simulate_avx512(float* x, int64_t n, int block) { quantize<true, true>(x, n, block, x, nullptr); }
void act_quant_fp8_values_avx512(const float* x, int64_t n, int block, float* values, float* scales) {
  quantize<false, false>(x, n, block, values, scales);
}

namespace {

inline __m512 e8m0_splat(uint8_t e) { return _mm512_set1_ps(e8m0_to_f32(e)); }

// Sixteen e4m3 codes → FP32. Shifted left by 7 (sign-extended, the copies of the sign above bit 14
// cleared), a code is the FP16 encoding of its value × 2^-8, subnormals included; the FP16 → FP32
// conversion and × 2^8 are exact. No step takes an FP32 subnormal operand, which costs a microcode
// assist per instruction on Intel cores. Codes 0x7f / 0xff are NaN.
inline __m512 e4m3_values(const uint8_t* codes) {
  const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes));
  const __m256i h = _mm256_and_si256(_mm256_slli_epi16(_mm256_cvtepi8_epi16(c), 7), _mm256_set1_epi16(int16_t(0xbfff)));
  const __m512 v = _mm512_mul_ps(_mm512_cvtph_ps(h), _mm512_set1_ps(256.0f));
  const __mmask16 nan = _mm_cmpeq_epi8_mask(_mm_and_si128(c, _mm_set1_epi8(0x7f)), _mm_set1_epi8(0x7f));
  return _mm512_mask_mov_ps(v, nan, _mm512_set1_ps(NAN));
}

}  // namespace

void e4m3_decode_rows_avx512(const uint8_t* src, int64_t rows, int64_t stride, int width, int tail, int block,
                             float* dst) {
  const int nq = width - tail;
  for (int64_t r = 0; r < rows; ++r, dst += width) {
    const uint8_t* codes = src + r * stride;
    const uint8_t* scales = codes + nq;
    for (int b = 0; b < nq / block; ++b) {
      const __m512 s = e8m0_splat(scales[b]);
      for (int i = b * block; i < (b + 1) * block; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_mul_ps(e4m3_values(codes + i), s));
    }
    bf16_decode_avx512(scales + nq / block, tail, dst + nq);
  }
}

// Sixteen values at a time; a tail of fewer than 16 goes through masked loads and stores.
void bf16_decode_avx512(const uint8_t* bytes, int64_t n, float* dst) {
  for (int64_t i = 0; i < n; i += 16) {
    const int64_t left = n - i < 16 ? n - i : 16;
    const __mmask16 m = __mmask16((1u << left) - 1);
    const __m512i h = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, bytes + 2 * i));
    _mm512_mask_storeu_ps(dst + i, m, _mm512_castsi512_ps(_mm512_slli_epi32(h, 16)));
  }
}

}  // namespace dsv4::quantize_detail

DSV4_TARGET_END
