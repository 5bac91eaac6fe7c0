#include "kernels/quantize.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "base/check.h"
#include "base/cpu_features.h"
#include "kernels/quantize_internal.h"
#include "base/float_formats.h"

namespace dsv4 {

namespace {
float block_amax(const float* x, int n, float floor) {
  float amax = 0.0f;
  for (int i = 0; i < n; ++i) amax = std::fmax(amax, std::fabs(x[i]));
  return std::fmax(amax, floor);
}
}  // namespace

float pow2_scale(float amax, float inv_max) {
  const uint32_t bits = f32_bits(amax * inv_max);
  const int exp = int((bits >> 23) & 0xff) - 127 + ((bits & 0x7fffff) != 0 ? 1 : 0);
  return f32_from_bits(uint32_t(exp + 127) << 23);
}

void act_quant_fp8(const float* x, int64_t n, int block, uint8_t* codes, float* scales) {
  DSV4_CHECK(n % block == 0);
  for (int64_t b = 0; b < n / block; ++b) {
    const float* xb = x + b * block;
    const float s = pow2_scale(block_amax(xb, block, kFp8AmaxFloor), 1.0f / kFp8Max);
    scales[b] = s;
    for (int i = 0; i < block; ++i)
      codes[b * block + i] = f32_to_e4m3(std::fmin(std::fmax(xb[i] / s, -kFp8Max), kFp8Max));
  }
}

void act_quant_fp8_values_ref(const float* x, int64_t n, int block, float* values, float* scales) {
  std::vector<uint8_t> codes(static_cast<size_t>(n));
  act_quant_fp8(x, n, block, codes.data(), scales);
  for (int64_t i = 0; i < n; ++i) values[i] = e4m3_to_f32(codes[size_t(i)]);
}

void act_quant_fp8_values(const float* x, int64_t n, int block, float* values, float* scales) {
  if (active_isa() == Isa::kAvx512 && block % 16 == 0) {
    DSV4_CHECK(n % block == 0);
    return quantize_detail::act_quant_fp8_values_avx512(x, n, block, values, scales);
  }
  act_quant_fp8_values_ref(x, n, block, values, scales);
}

namespace {
// x = decode(encode(clamp(x / s))) · s per block, s a power of two from the block's amax.
template <uint8_t (*Encode)(float), float (*Decode)(uint8_t)>
void simulate(float* x, int64_t n, int block, float max, float amax_floor) {
  DSV4_CHECK(n % block == 0);
  for (int64_t b = 0; b < n / block; ++b) {
    float* xb = x + b * block;
    const float s = pow2_scale(block_amax(xb, block, amax_floor), 1.0f / max);
    for (int i = 0; i < block; ++i) xb[i] = Decode(Encode(std::fmin(std::fmax(xb[i] / s, -max), max))) * s;
  }
}
}  // namespace

void fp8_simulate_ref(float* x, int64_t n, int block) {
  simulate<f32_to_e4m3, e4m3_to_f32>(x, n, block, kFp8Max, kFp8AmaxFloor);
}

void fp4_simulate_ref(float* x, int64_t n, int block) {
  simulate<f32_to_e2m1, e2m1_to_f32>(x, n, block, kFp4Max, kFp4AmaxFloor);
}

void fp8_simulate(float* x, int64_t n, int block) {
  if (active_isa() == Isa::kAvx512 && block % 16 == 0) {
    DSV4_CHECK(n % block == 0);
    return quantize_detail::fp8_simulate_avx512(x, n, block);
  }
  fp8_simulate_ref(x, n, block);
}

void fp4_simulate(float* x, int64_t n, int block) {
  if (active_isa() == Isa::kAvx512 && block % 16 == 0) {
    DSV4_CHECK(n % block == 0);
    return quantize_detail::fp4_simulate_avx512(x, n, block);
  }
  fp4_simulate_ref(x, n, block);
}

void e4m3_decode_rows_ref(const uint8_t* src, int64_t rows, int64_t stride, int width, int tail, int block,
                          float* dst) {
  const int nq = width - tail;
  for (int64_t r = 0; r < rows; ++r, dst += width) {
    const uint8_t* codes = src + r * stride;
    const uint8_t* scales = codes + nq;
    for (int i = 0; i < nq; ++i) dst[i] = e4m3_to_f32(codes[i]) * e8m0_to_f32(scales[i / block]);
    bf16_decode_ref(scales + nq / block, tail, dst + nq);
  }
}

void bf16_decode_ref(const uint8_t* bytes, int64_t n, float* dst) {
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, bytes + 2 * i, 2);
    dst[i] = bf16_to_f32(h);
  }
}

void e4m3_decode_rows(const uint8_t* src, int64_t rows, int64_t stride, int width, int tail, int block, float* dst) {
  if (active_isa() == Isa::kAvx512 && block % 16 == 0)
    return quantize_detail::e4m3_decode_rows_avx512(src, rows, stride, width, tail, block, dst);
  e4m3_decode_rows_ref(src, rows, stride, width, tail, block, dst);
}

void bf16_decode(const uint8_t* bytes, int64_t n, float* dst) {
  if (active_isa() == Isa::kAvx512) return quantize_detail::bf16_decode_avx512(bytes, n, dst);
  bf16_decode_ref(bytes, n, dst);
}

}  // namespace dsv4
