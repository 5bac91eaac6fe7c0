// AVX-512 VNNI indexer scores: 16 keys per vector, one vpdpbusd per 4 dims of 16 keys. A tile's codes are
// expanded once to unsigned bytes (2 · value + 12, so that vpdpbusd's unsigned operand holds them; the
// 12 · Σ iq this adds is taken off before scaling) and then serve every query-head of the call.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "kernels/index_score.h"
#include "base/simd_target.h"

DSV4_TARGET_AVX512

namespace dsv4 {

namespace {

// e8m0 bytes of 16 keys → FP32 scales, as e8m0_to_f32 (0 → 2^-127, 255 → NaN).
inline __m512 e8m0_scales(const uint8_t* bytes) {
  const __m512i e = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes)));
  __m512i bits = _mm512_slli_epi32(e, 23);
  bits = _mm512_mask_mov_epi32(bits, _mm512_cmpeq_epi32_mask(e, _mm512_setzero_si512()),
                               _mm512_set1_epi32(0x00400000));
  const __m512 s = _mm512_castsi512_ps(bits);
  return _mm512_mask_mov_ps(s, _mm512_cmpeq_epi32_mask(e, _mm512_set1_epi32(255)), _mm512_set1_ps(NAN));
}

// 32 packed bytes (16 keys × 4 codes of one dim group) → 64 bytes 2 · value + 12, key j's 4 in lane j.
inline __m512i expand_group(const uint8_t* packed, __m512i lut) {
  const __m512i words = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(packed)));
  // Each 16-bit word: low nibble into its low byte, high nibble into its high byte.
  const __m512i nibbles = _mm512_or_si512(_mm512_and_si512(words, _mm512_set1_epi16(0x000f)),
                                          _mm512_and_si512(_mm512_slli_epi16(words, 4), _mm512_set1_epi16(0x0f00)));
  return _mm512_shuffle_epi8(lut, nibbles);
}

}  // namespace

void fp4_index_scores_avx512(const uint8_t* table, int64_t tile0, int64_t tile1, int width, const Fp4Queries& q,
                             const float* head_w, int64_t nq, int heads, float* scores, int64_t stride) {
  const int groups = width / 4, nb = width / kFp4IndexBlock, groups_per_block = kFp4IndexBlock / 4;
  const __m512i lut = _mm512_broadcast_i32x4(_mm_setr_epi8(12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0));
  const int64_t tile_bytes = fp4_tile_bytes(width);
  __m512i keys[64];  // [groups]; width ≤ 256
  __m512 key_scales[8];  // [nb]
  for (int64_t t = tile0; t < tile1; ++t) {
    const uint8_t* tile = table + t * tile_bytes;
    for (int g = 0; g < groups; ++g) keys[g] = expand_group(tile + g * 2 * kFp4TileKeys, lut);
    for (int b = 0; b < nb; ++b) key_scales[b] = e8m0_scales(tile + groups * 2 * kFp4TileKeys + b * kFp4TileKeys);
    for (int64_t i = 0; i < nq; ++i) {
      __m512 score = _mm512_setzero_ps();
      for (int h = 0; h < heads; ++h) {
        const int64_t r = i * heads + h;
        const int8_t* codes = q.codes + r * width;
        __m512 th = _mm512_setzero_ps();
        for (int b = 0; b < nb; ++b) {
          __m512i dot = _mm512_set1_epi32(-12 * q.sums[r * nb + b]);
          for (int g = b * groups_per_block; g < (b + 1) * groups_per_block; ++g) {
            int32_t quad;
            __builtin_memcpy(&quad, codes + 4 * g, 4);
            dot = _mm512_dpbusd_epi32(dot, keys[g], _mm512_set1_epi32(quad));
          }
          th = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(key_scales[b], _mm512_set1_ps(q.scales[r * nb + b])),
                               th);
        }
        score = _mm512_fmadd_ps(_mm512_max_ps(th, _mm512_setzero_ps()), _mm512_set1_ps(head_w[r]), score);
      }
      _mm512_storeu_ps(scores + i * stride + t * kFp4TileKeys, score);
    }
  }
}

}  // namespace dsv4

DSV4_TARGET_END
