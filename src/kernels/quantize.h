// The quantizers the model itself applies to activations (kernel.py act_quant / fp4_act_quant):
// per row, in blocks along the last dimension, a power-of-two scale s = 2^ceil(log2(amax / max)) and
// values rounded to e4m3 or e2m1 after clamping to the format's range.
#pragma once

#include <cstdint>

namespace dsv4 {

inline constexpr float kFp8Max = 448.0f;
inline constexpr float kFp8AmaxFloor = 1e-4f;
inline constexpr float kFp4Max = 6.0f;
inline constexpr float kFp4AmaxFloor = 6.0f * 0x1p-126f;

// 2^ceil(log2(amax * inv_max)), computed from the float32 bits of the product as the reference does.
float pow2_scale(float amax, float inv_max);

// FP8 activation quantization of x[0, n), n % block == 0: codes[i] = e4m3(clamp(x[i] / s_b)),
// scales[b] = s_b for block b. Used before FP8/FP4 matrix products.
void act_quant_fp8(const float* x, int64_t n, int block, uint8_t* codes, float* scales);

// act_quant_fp8 with each code as its value e4m3(clamp(x[i] / s_b)) (exact in FP32), for kernels that do
// arithmetic on the codes. SIMD where available; block % 16 == 0.
void act_quant_fp8_values(const float* x, int64_t n, int block, float* values, float* scales);
void act_quant_fp8_values_ref(const float* x, int64_t n, int block, float* values, float* scales);

// In-place quantize-dequantize ("simulation"): x[i] = fmt(x[i] / s_b) * s_b. The SIMD variants give the
// same bits as the _ref ones.
void fp8_simulate(float* x, int64_t n, int block);  // KV nope dims (64-wide blocks), activations (128)
void fp4_simulate(float* x, int64_t n, int block);  // indexer queries and keys, 32-wide blocks
void fp8_simulate_ref(float* x, int64_t n, int block);
void fp4_simulate_ref(float* x, int64_t n, int block);

// Rows of the KV cache's FP8 format back to FP32: row r starts at src + r · stride and holds width − tail
// e4m3 codes, then (width − tail) / block e8m0 scales, then `tail` BF16 values; a code's value is
// multiplied by its block's scale. dst: [rows, width].
// bf16_decode: n values of two bytes each (the upper half of the FP32 bits), any alignment.
void e4m3_decode_rows(const uint8_t* src, int64_t rows, int64_t stride, int width, int tail, int block, float* dst);
void bf16_decode(const uint8_t* bytes, int64_t n, float* dst);
void e4m3_decode_rows_ref(const uint8_t* src, int64_t rows, int64_t stride, int width, int tail, int block,
                          float* dst);
void bf16_decode_ref(const uint8_t* bytes, int64_t n, float* dst);

}  // namespace dsv4
