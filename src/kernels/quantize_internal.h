// Per-ISA variants of the block quantizers (quantize.h); `block` must be a multiple of 16.
#pragma once

#include <cstdint>

namespace dsv4::quantize_detail {

void fp8_simulate_avx512(float* x, int64_t n, int block);
void fp4_simulate_avx512(float* x, int64_t n, int block);
void act_quant_fp8_values_avx512(const float* x, int64_t n, int block, float* values, float* scales);
void e4m3_decode_rows_avx512(const uint8_t* src, int64_t rows, int64_t stride, int width, int tail, int block,
                             float* dst);
void bf16_decode_avx512(const uint8_t* bytes, int64_t n, float* dst);

}  // namespace dsv4::quantize_detail
