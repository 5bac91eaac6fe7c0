// What the matmul variants share. Every variant is batch-invariant: an output's arithmetic depends only
// on its weight row and its activation row — not on how many rows the call has, whether the GEMV or
// the GEMM loop computes it, or how rows are split between threads. Chunked prefill, decode, prefix
// reuse and batched serving therefore give the same bits. The canonical order per output:
//   FP32 fused multiply-adds into one accumulator of L lanes (16 for AVX-512, 8 for AVX2); K walked in
//   chunks of L, lane l taking the same position of every chunk; a masked last chunk; a fixed reduction
//   of the lanes at the end. Products are those of the weights with their block scales multiplied in and
//   of the activations with theirs (exact: powers of two), whichever side a kernel applies a scale to.
#pragma once

#include <cstdint>

#include "kernels/matmul.h"

namespace dsv4::matmul_detail {

// Activation rows as the products consume them.
struct Prepared {
  int64_t m = 0;
  // [m, cols] FP32. Quantized input: e4m3(x/s)·s per 128-wide block, which BF16 also holds exactly.
  // FP4 weights: each 64-wide chunk of a row as its 32 even, then its 32 odd elements (the order FP4
  // kernels decode a packed byte run in).
  const float* f32 = nullptr;
  // Set instead of f32 when a variant's prepare() takes the activations in a form of its own.
  const void* own = nullptr;
};

struct Variant {
  void (*rows)(const WeightMatrix& w, const Prepared& a, float* y, int64_t n0, int64_t n1);
  // Fills a.own from the m activation rows x (before the rows are split between threads) and returns
  // true, or returns false when f32 is what the variant wants for w. The calling thread's storage `slot`
  // holds a.own until prepare is next called with that slot.
  bool (*prepare)(const WeightMatrix& w, const float* x, int64_t m, int slot, Prepared& a);
};

extern const Variant kAvx512;
extern const Variant kAvx2;

// Position q of the K order the kernels use → element of the row (the FP4 even/odd order above).
inline int64_t k_source(const WeightMatrix& w, int64_t q) {
  if (w.format != WeightFormat::kFP4) return q;
  const int64_t c = q & ~int64_t(63), j = q & 63;
  return c + (j < 32 ? 2 * j : 2 * (j - 32) + 1);
}

}  // namespace dsv4::matmul_detail
