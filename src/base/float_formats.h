// The narrow number formats of the DeepSeek-V4 checkpoints, as plain bit codecs (g++ 12 has no __bf16):
//   BF16      upper 16 bits of an IEEE float32; rounding is nearest-even.
//   E4M3 (fn) 1 sign, 4 exponent (bias 7), 3 mantissa; max ±448, no infinities, 0x7F/0xFF are NaN.
//   E8M0      unsigned power of two, value 2^(byte − 127); byte 255 is NaN.
//   E2M1      FP4: bit 3 sign, codes 0..7 = 0, 0.5, 1, 1.5, 2, 3, 4, 6.
// Encoders round to nearest-even and saturate, as the reference's tilelang casts are assumed to do
// (v4-architecture.md §6.2); the reference always clamps to the format's range before it casts.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace dsv4 {

inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// ---- BF16 ----
inline float bf16_to_f32(uint16_t h) { return f32_from_bits(uint32_t(h) << 16); }
inline uint16_t f32_to_bf16(float f) {
  uint32_t u = f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // quiet NaN, keep sign
  u += 0x7fffu + ((u >> 16) & 1u);                                        // nearest-even
  return uint16_t(u >> 16);
}

// ---- E8M0 ----
inline float e8m0_to_f32(uint8_t b) {
  if (b == 255) return NAN;
  if (b == 0) return f32_from_bits(0x00400000u);  // 2^-127 is a float32 subnormal
  return f32_from_bits(uint32_t(b) << 23);
}

// ---- E4M3 (fn) ----
struct E4m3Table {
  float value[256];
  constexpr E4m3Table() : value() {
    for (int c = 0; c < 256; ++c) {
      const int exp = (c >> 3) & 0xf, man = c & 7;
      float v;
      if (exp == 0xf && man == 7) {
        v = __builtin_nanf("");
      } else if (exp == 0) {
        v = float(man) / 8.0f / 64.0f;  // subnormal: man/8 · 2^-6
      } else {
        v = (1.0f + float(man) / 8.0f);
        for (int e = exp - 7; e > 0; --e) v *= 2.0f;
        for (int e = exp - 7; e < 0; ++e) v *= 0.5f;
      }
      value[c] = (c & 0x80) ? -v : v;
    }
  }
};
inline constexpr E4m3Table kE4m3Table{};
inline float e4m3_to_f32(uint8_t c) { return kE4m3Table.value[c]; }

// Nearest-even, saturating to ±448; NaN maps to 0x7F (with sign).
inline uint8_t f32_to_e4m3(float f) {
  const uint32_t u = f32_bits(f);
  const uint8_t sign = uint8_t((u >> 24) & 0x80);
  const float a = std::fabs(f);
  if (std::isnan(f)) return sign | 0x7f;
  if (a >= 448.0f) return sign | 0x7e;
  // Values below 2^-6 are subnormal in e4m3: a fixed grid of step 2^-9.
  if (a < 0.015625f) {
    const float q = std::nearbyint(a * 512.0f);  // current rounding mode = nearest-even
    return sign | uint8_t(q);                    // q == 8 is the smallest normal, code 0x08
  }
  // Normal: keep 3 mantissa bits of the float32, rounding the dropped 20 bits to nearest-even.
  uint32_t m = u & 0x7fffffffu;
  m += 0x7ffffu + ((m >> 20) & 1u);
  const int exp = int(m >> 23) - 127 + 7;
  const uint32_t man = (m >> 20) & 7u;
  if (exp > 15 || (exp == 15 && man == 7)) return sign | 0x7e;
  return sign | uint8_t((exp << 3) | man);
}

// ---- E2M1 (FP4) ----
inline constexpr float kE2m1Values[16] = {0.0f,  0.5f,  1.0f,  1.5f,  2.0f,  3.0f,  4.0f,  6.0f,
                                          -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};
inline float e2m1_to_f32(uint8_t code) { return kE2m1Values[code & 0xf]; }

// Nearest-even, saturating to ±6. Ties go to the code with an even mantissa bit (even code).
inline uint8_t f32_to_e2m1(float f) {
  const uint8_t sign = std::signbit(f) ? 8 : 0;
  const float a = std::fabs(f);
  if (std::isnan(f)) return sign | 7;
  // Midpoints between consecutive magnitudes 0, .5, 1, 1.5, 2, 3, 4, 6.
  static constexpr float kMid[7] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f};
  uint8_t code = 0;
  while (code < 7 && a > kMid[code]) ++code;
  if (code < 7 && a == kMid[code] && (code & 1)) ++code;  // exact tie: round to the even code
  return sign | code;
}

}  // namespace dsv4
