#include "kernels/matmul.h"

#include <cstring>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/check.h"
#include "base/cpu_features.h"
#include "base/thread_pool.h"
#include "base/float_formats.h"
#include "kernels/matmul_internal.h"
#include "kernels/quantize.h"

namespace dsv4 {

namespace {

constexpr int kFp8Block = 128;  // weight scale block (both dims) and activation quantization block
constexpr int kFp4Block = 32;   // FP4 weight scale block along K

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

float load_weight(const float* w, int64_t i) { return w[i]; }
float load_weight(const uint16_t* w, int64_t i) { return bf16_to_f32(w[i]); }

// Plain products for F32 and BF16 weights (T = float or uint16_t).
template <typename T>
void matmul_dense(const WeightMatrix& w, const float* x, int64_t m, float* y) {
  const T* W = static_cast<const T*>(w.data);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t n = 0; n < w.rows; ++n) {
      const T* wr = W + n * w.cols;
      const float* xr = x + i * w.cols;
      float acc = 0.0f;
      for (int64_t k = 0; k < w.cols; ++k) acc += xr[k] * load_weight(wr, k);
      y[i * w.rows + n] = acc;
    }
}

// Activations as the block products see them: either e4m3 codes with one scale per 128 values, or the
// raw values with unit scales.
struct Activations {
  std::vector<float> value;  // [m, cols]
  std::vector<float> scale;  // [m, cols / 128]
};

Activations prepare_activations(const WeightMatrix& w, const float* x, int64_t m) {
  const int64_t n_blocks = ceil_div(w.cols, kFp8Block);
  Activations a;
  a.value.assign(x, x + m * w.cols);
  a.scale.assign(size_t(m * n_blocks), 1.0f);
  if (!w.quantize_input) return a;
  DSV4_CHECK(w.cols % kFp8Block == 0);
  std::vector<uint8_t> codes(static_cast<size_t>(w.cols));
  for (int64_t i = 0; i < m; ++i) {
    act_quant_fp8(x + i * w.cols, w.cols, kFp8Block, codes.data(), &a.scale[size_t(i * n_blocks)]);
    for (int64_t k = 0; k < w.cols; ++k) a.value[size_t(i * w.cols + k)] = e4m3_to_f32(codes[size_t(k)]);
  }
  return a;
}

// Σ over 128-wide K blocks of (Σ_k a·w) · s_a · s_w: the FP32 two-accumulator scheme of fp8_gemm.
void matmul_fp8(const WeightMatrix& w, const float* x, int64_t m, float* y) {
  const uint8_t* W = static_cast<const uint8_t*>(w.data);
  const int64_t kb_count = ceil_div(w.cols, kFp8Block);
  const Activations a = prepare_activations(w, x, m);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t n = 0; n < w.rows; ++n) {
      const uint8_t* wr = W + n * w.cols;
      const float* ar = &a.value[size_t(i * w.cols)];
      float acc = 0.0f;
      for (int64_t kb = 0; kb < kb_count; ++kb) {
        const int64_t k1 = std::min(w.cols, (kb + 1) * kFp8Block);
        float partial = 0.0f;
        for (int64_t k = kb * kFp8Block; k < k1; ++k) partial += ar[k] * e4m3_to_f32(wr[k]);
        const float sw = e8m0_to_f32(w.scale[(n / kFp8Block) * kb_count + kb]);
        acc += partial * (a.scale[size_t(i * kb_count + kb)] * sw);
      }
      y[i * w.rows + n] = acc;
    }
}

// FP4 weights: 32-wide inner blocks, each with its own weight scale; the activation scale covers 4 of them.
void matmul_fp4(const WeightMatrix& w, const float* x, int64_t m, float* y) {
  DSV4_CHECK(w.cols % kFp4Block == 0);
  const uint8_t* W = static_cast<const uint8_t*>(w.data);
  const int64_t kb_count = w.cols / kFp4Block;
  const int64_t act_blocks = ceil_div(w.cols, kFp8Block);
  const Activations a = prepare_activations(w, x, m);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t n = 0; n < w.rows; ++n) {
      const uint8_t* wr = W + n * (w.cols / 2);
      const float* ar = &a.value[size_t(i * w.cols)];
      float acc = 0.0f;
      for (int64_t kb = 0; kb < kb_count; ++kb) {
        float partial = 0.0f;
        for (int64_t k = kb * kFp4Block; k < (kb + 1) * kFp4Block; k += 2) {
          const uint8_t byte = wr[k / 2];
          partial += ar[k] * e2m1_to_f32(byte & 0xf);
          partial += ar[k + 1] * e2m1_to_f32(byte >> 4);
        }
        const float sa = a.scale[size_t(i * act_blocks + kb * kFp4Block / kFp8Block)];
        acc += partial * sa * e8m0_to_f32(w.scale[n * kb_count + kb]);
      }
      y[i * w.rows + n] = acc;
    }
}

}  // namespace

const char* weight_format_name(WeightFormat f) {
  switch (f) {
    case WeightFormat::kF32: return "f32";
    case WeightFormat::kBF16: return "bf16";
    case WeightFormat::kFP8: return "fp8";
    case WeightFormat::kFP4: return "fp4";
  }
  return "?";
}

int64_t WeightMatrix::weight_bytes() const {
  switch (format) {
    case WeightFormat::kF32: return rows * cols * 4;
    case WeightFormat::kBF16: return rows * cols * 2;
    case WeightFormat::kFP8: return rows * cols + ceil_div(rows, kFp8Block) * ceil_div(cols, kFp8Block);
    case WeightFormat::kFP4: return rows * cols / 2 + rows * (cols / kFp4Block);
  }
  return 0;
}

WeightMatrix weight_rows(const WeightMatrix& w, int64_t r0, int64_t r1) {
  DSV4_CHECK(0 <= r0 && r0 <= r1 && r1 <= w.rows);
  WeightMatrix s = w;
  s.rows = r1 - r0;
  const uint8_t* base = static_cast<const uint8_t*>(w.data);
  switch (w.format) {
    case WeightFormat::kF32: s.data = base + r0 * w.cols * 4; break;
    case WeightFormat::kBF16: s.data = base + r0 * w.cols * 2; break;
    case WeightFormat::kFP8:
      DSV4_CHECK(r0 % kFp8Block == 0);
      s.data = base + r0 * w.cols;
      s.scale = w.scale + (r0 / kFp8Block) * ceil_div(w.cols, kFp8Block);
      break;
    case WeightFormat::kFP4:
      s.data = base + r0 * (w.cols / 2);
      s.scale = w.scale + r0 * (w.cols / kFp4Block);
      break;
  }
  return s;
}

void matmul_ref(const WeightMatrix& w, const float* x, int64_t m, float* y) {
  switch (w.format) {
    case WeightFormat::kF32: return matmul_dense<float>(w, x, m, y);
    case WeightFormat::kBF16: return matmul_dense<uint16_t>(w, x, m, y);
    case WeightFormat::kFP8: return matmul_fp8(w, x, m, y);
    case WeightFormat::kFP4: return matmul_fp4(w, x, m, y);
  }
}

namespace {

using matmul_detail::Prepared;
using matmul_detail::Variant;

// Scratch that outlives calls, so steady-state decode does not allocate.
struct Scratch {
  AlignedBuffer<float> f32;
};

// Thread a call only when it is big enough to pay for waking the workers.
constexpr int64_t kMinParallelMacs = 1 << 16;

}  // namespace

void matmul(const WeightMatrix& w, const float* x, int64_t m, float* y) {
  const Isa isa = active_isa();
  if (isa == Isa::kScalar || m <= 0) return matmul_ref(w, x, m, y);
  const Variant& v = isa == Isa::kAvx512 ? matmul_detail::kAvx512 : matmul_detail::kAvx2;
  thread_local Scratch s;
  Prepared a;
  a.m = m;
  a.f32 = x;
  if (w.quantize_input || w.format == WeightFormat::kFP4) DSV4_CHECK(w.cols % (w.quantize_input ? kFp8Block : 64) == 0);
  if (v.prepare && v.prepare(w, x, m, a)) {
    // the variant's own form
  } else if (w.quantize_input || w.format == WeightFormat::kFP4) {
    float* f32 = s.f32.get(size_t(m * w.cols));
    for (int64_t i = 0; i < m; ++i) {
      const float* xr = x + i * w.cols;
      float* row = f32 + i * w.cols;
      for (int64_t q = 0; q < w.cols; ++q) row[q] = xr[matmul_detail::k_source(w, q)];
      // Quantization blocks are whole 64-chunks, so the order change does not move values between them.
      if (w.quantize_input) fp8_simulate(row, w.cols, kFp8Block);
    }
    a.f32 = f32;
  }
  const bool parallel = m * w.rows * w.cols >= kMinParallelMacs;
  // Split the weight rows in multiples of 48 (a multiple of every kernel's row blocks).
  if (parallel) default_thread_pool().parallel_for(w.rows, 48, [&](int64_t n0, int64_t n1) { v.rows(w, a, y, n0, n1); });
  else v.rows(w, a, y, 0, w.rows);
}

}  // namespace dsv4
