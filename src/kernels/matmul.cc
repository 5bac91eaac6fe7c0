#include "kernels/matmul.h"

#include <algorithm>
#include <cstring>
#include <memory>
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

// Thread a call only when it is big enough to pay for waking the workers.
constexpr int64_t kMinParallelMacs = 1 << 16;
// Threads take weight rows in units of 48 (a multiple of every kernel's row blocks). A GEMV batch of few
// rows, such as mHC's 24 × 16384, takes units of 4 (the GEMV step of both variants) so that it is split
// between the threads instead of running on one; bigger ones keep 48, as a piece of an FP8 GEMV starts
// by scaling the activations for its row block.
constexpr int64_t kUnitRows = 48;
constexpr int64_t kGemvUnitRows = 4;
constexpr int64_t kGemvMaxActivationRows = 4;  // the variants' GEMV path takes m ≤ 4
constexpr int64_t kSmallBatchRows = 4 * kUnitRows;

int64_t unit_rows_for(std::span<const MatmulJob> jobs) {
  int64_t rows = 0;
  for (const MatmulJob& job : jobs) {
    if (job.m > kGemvMaxActivationRows) return kUnitRows;
    rows += job.w->rows;
  }
  return rows < kSmallBatchRows ? kGemvUnitRows : kUnitRows;
}

// The job's activations as its variant consumes them; `f32` is storage that outlives calls, so
// steady-state decode does not allocate.
Prepared prepare_input(const Variant& v, const MatmulJob& job, int slot, AlignedBuffer<float>& f32) {
  const WeightMatrix& w = *job.w;
  Prepared a;
  a.m = job.m;
  a.f32 = job.x;
  if (w.quantize_input || w.format == WeightFormat::kFP4) DSV4_CHECK(w.cols % (w.quantize_input ? kFp8Block : 64) == 0);
  if (v.prepare && v.prepare(w, job.x, job.m, slot, a)) return a;
  if (w.quantize_input || w.format == WeightFormat::kFP4) {
    float* rows = f32.get(size_t(job.m * w.cols));
    for (int64_t i = 0; i < job.m; ++i) {
      const float* xr = job.x + i * w.cols;
      float* row = rows + i * w.cols;
      for (int64_t q = 0; q < w.cols; ++q) row[q] = xr[matmul_detail::k_source(w, q)];
      // Quantization blocks are whole 64-chunks, so the order change does not move values between them.
      if (w.quantize_input) fp8_simulate(row, w.cols, kFp8Block);
    }
    a.f32 = rows;
  }
  return a;
}

bool same_input(const MatmulJob& a, const MatmulJob& b) {
  return a.x == b.x && a.m == b.m && a.w->cols == b.w->cols && a.w->format == b.w->format &&
         a.w->quantize_input == b.w->quantize_input;
}

}  // namespace

void matmul(const WeightMatrix& w, const float* x, int64_t m, float* y) {
  const MatmulJob job{&w, x, m, y};
  matmul_batch({&job, 1});
}

void matmul_batch(std::span<const MatmulJob> jobs) {
  const Isa isa = active_isa();
  if (isa == Isa::kScalar) {
    for (const MatmulJob& job : jobs) matmul_ref(*job.w, job.x, job.m, job.y);
    return;
  }
  const Variant& v = isa == Isa::kAvx512 ? matmul_detail::kAvx512 : matmul_detail::kAvx2;
  // Per calling thread; the region's workers reach them through these references.
  thread_local std::vector<std::unique_ptr<AlignedBuffer<float>>> f32_slots;
  thread_local std::vector<Prepared> prepared_tl;
  thread_local std::vector<int64_t> first_unit_tl;
  std::vector<Prepared>& prepared = prepared_tl;
  std::vector<int64_t>& first_unit = first_unit_tl;  // [jobs + 1]: where each job's row units start
  prepared.assign(jobs.size(), Prepared{});
  first_unit.assign(1, 0);
  int64_t macs = 0;
  const int64_t unit_rows = unit_rows_for(jobs);
  const auto runs_of = [](const MatmulJob& job) { return job.m > 0 && job.w->rows > 0; };
  for (size_t j = 0; j < jobs.size(); ++j) {
    const MatmulJob& job = jobs[j];
    const bool runs = runs_of(job);
    size_t same = 0;  // an earlier job that was prepared for this input
    while (same < j && !(runs_of(jobs[same]) && same_input(jobs[same], job))) ++same;
    if (runs && same < j) {
      prepared[j] = prepared[same];
    } else if (runs) {
      while (f32_slots.size() <= j) f32_slots.push_back(std::make_unique<AlignedBuffer<float>>());
      prepared[j] = prepare_input(v, job, int(j), *f32_slots[j]);
    }
    first_unit.push_back(first_unit.back() + (runs ? ceil_div(job.w->rows, unit_rows) : 0));
    if (runs) macs += job.m * job.w->rows * job.w->cols;
  }
  const auto run_units = [&](int64_t u0, int64_t u1) {
    size_t j = size_t(std::upper_bound(first_unit.begin(), first_unit.end(), u0) - first_unit.begin() - 1);
    for (; j < jobs.size() && first_unit[j] < u1; ++j) {
      const WeightMatrix& w = *jobs[j].w;
      const int64_t n0 = (std::max(u0, first_unit[j]) - first_unit[j]) * unit_rows;
      const int64_t n1 = std::min(w.rows, (std::min(u1, first_unit[j + 1]) - first_unit[j]) * unit_rows);
      if (n0 < n1) v.rows(w, prepared[j], jobs[j].y, n0, n1);
    }
  };
  if (macs >= kMinParallelMacs) default_thread_pool().parallel_for(first_unit.back(), 1, run_units);
  else run_units(0, first_unit.back());
}

}  // namespace dsv4
