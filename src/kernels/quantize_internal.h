// Per-ISA variants of the block quantizers (quantize.h); `block` must be a multiple of 16.
#pragma once

#include <cstdint>

namespace dsv4::quantize_detail {

void fp8_simulate_avx512(float* x, int64_t n, int block);
void fp4_simulate_avx512(float* x, int64_t n, int block);
void act_quant_fp8_values_avx512(const float* x, int64_t n, int block, float* values, float* scales);

}  // namespace dsv4::quantize_detail
