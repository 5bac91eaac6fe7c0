// Matrix products with weights in the checkpoint's own formats, used in place (zero copy):
//   y[m, rows] = x[m, cols] · Wᵀ,  W = [rows (out), cols (in)]
// FP8 weights carry one E8M0 scale per 128×128 block, FP4 weights one per 1×32 block along K, and the
// reference multiplies the scales into block partial sums (kernel.py fp8_gemm / fp4_gemm). When
// `quantize_input` is set the activation rows are first quantized to e4m3 in 128-wide blocks (act_quant),
// which is what the reference's linear() does for every FP8/FP4 weight.
// This file is the scalar reference (the spec for faster variants); results are FP32.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "base/check.h"

namespace dsv4 {

enum class WeightFormat : uint8_t { kF32, kBF16, kFP8, kFP4 };
const char* weight_format_name(WeightFormat f);

struct WeightMatrix {
  WeightFormat format = WeightFormat::kF32;
  int64_t rows = 0, cols = 0;
  // F32: float[rows, cols]; BF16: uint16_t[rows, cols]; FP8: e4m3 codes [rows, cols];
  // FP4: e2m1 codes packed two per byte along K, element 2j in the low nibble: [rows, cols / 2].
  const void* data = nullptr;
  // E8M0 scales. FP8: [ceil(rows/128), ceil(cols/128)]; FP4: [rows, cols/32]. Null otherwise.
  const uint8_t* scale = nullptr;
  bool quantize_input = false;  // FP8/FP4 only: FP8-quantize the activations first

  bool empty() const { return data == nullptr; }
  int64_t weight_bytes() const;  // bytes streamed for one pass over the weights, scales included
};

// Rows [r0, r1) of W as a matrix of their own. FP8 needs r0 on a 128-row scale block boundary.
WeightMatrix weight_rows(const WeightMatrix& w, int64_t r0, int64_t r1);

// y = x · Wᵀ for m activation rows.
void matmul_ref(const WeightMatrix& w, const float* x, int64_t m, float* y);

// The entry point the model calls; dispatches to the best available variant.
void matmul(const WeightMatrix& w, const float* x, int64_t m, float* y);

// One product of a matmul_batch: y = x · Wᵀ for m activation rows.
struct MatmulJob {
  const WeightMatrix* w = nullptr;
  const float* x = nullptr;
  int64_t m = 0;
  float* y = nullptr;
};

// The jobs' products in one parallel region, each with the bits matmul() gives it. A decode step's
// experts are many small products: run one by one, each pays a region's start and its uneven end. Jobs
// with the same x, m and input preparation (format, cols) share that preparation.
void matmul_batch(std::span<const MatmulJob> jobs);

// Products collected for one matmul_batch, in a fixed array: no allocation in the decode loop.
class MatmulJobs {
 public:
  void add(const WeightMatrix& w, const float* x, int64_t m, float* y) {
    DSV4_CHECK(n_ < jobs_.size());
    jobs_[n_++] = {&w, x, m, y};
  }
  void run() {
    matmul_batch({jobs_.data(), n_});
    n_ = 0;
  }

 private:
  std::array<MatmulJob, 16> jobs_;
  size_t n_ = 0;
};

}  // namespace dsv4
