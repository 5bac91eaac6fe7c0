#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/aligned_buffer.h"
#include "base/check.h"
#include "base/cpu_features.h"
#include "base/thread_pool.h"
#include "kernels/activation.h"
#include "kernels/matmul.h"

namespace dsv4 {

void sparse_attention_ref(const float* q, int n_heads, int d, const float* const* kv, int n_kv, const float* sink,
                          float scale, float* o) {
  DSV4_CHECK(n_kv >= 1);
  thread_local std::vector<float> z;
  z.resize(size_t(n_kv));
  for (int h = 0; h < n_heads; ++h) {
    const float* qh = q + h * d;
    float mx = -INFINITY;
    for (int j = 0; j < n_kv; ++j) {
      float dot = 0.0f;
      for (int k = 0; k < d; ++k) dot += qh[k] * kv[j][k];
      z[size_t(j)] = dot * scale;
      mx = std::fmax(mx, z[size_t(j)]);
    }
    float* oh = o + h * d;
    for (int k = 0; k < d; ++k) oh[k] = 0.0f;
    float denom = 0.0f;
    for (int j = 0; j < n_kv; ++j) {
      const float p = std::exp(z[size_t(j)] - mx);
      denom += p;
      for (int k = 0; k < d; ++k) oh[k] += p * kv[j][k];
    }
    denom += std::exp(sink[h] - mx);
    for (int k = 0; k < d; ++k) oh[k] /= denom;
  }
}

void accumulate_weighted_rows_ref(const float* w, int64_t w_stride, int heads, int n, const float* rows, int d,
                                  float* out) {
  for (int h = 0; h < heads; ++h)
    for (int j = 0; j < n; ++j)
      for (int k = 0; k < d; ++k)
        out[h * d + k] = std::fma(w[h * w_stride + j], rows[int64_t(j) * d + k], out[h * d + k]);
}

void accumulate_weighted_rows(const float* w, int64_t w_stride, int heads, int n, const float* rows, int d,
                              float* out) {
  if (active_isa() == Isa::kAvx512) return accumulate_weighted_rows_avx512(w, w_stride, heads, n, rows, d, out);
  accumulate_weighted_rows_ref(w, w_stride, heads, n, rows, d, out);
}

namespace {

// Encoded rows are decoded this many floats at a time: a block stays in L1 while it is read.
constexpr int64_t kDecodeBlockFloats = 8192;

}  // namespace

void sparse_attention(const float* q, int n_heads, int d, const float* const* kv, int n_kv,
                      const EncodedRows& encoded, const float* sink, float scale, float* o) {
  const int64_t total = n_kv + encoded.n;
  DSV4_CHECK(total >= 1);
  thread_local AlignedBuffer<float> scores_storage, part_storage;
  float* scores = scores_storage.get(size_t(n_heads) * size_t(total));  // [n_heads, total]
  const auto run_end = [&](int j0) {
    int j1 = j0 + 1;
    while (j1 < n_kv && kv[j1] == kv[j1 - 1] + d) ++j1;
    return j1;
  };
  for (int j0 = 0, j1; j0 < n_kv; j0 = j1) {
    j1 = run_end(j0);
    const int len = j1 - j0;
    float* part = part_storage.get(size_t(n_heads) * size_t(len));  // [n_heads, len]
    matmul(WeightMatrix{WeightFormat::kF32, len, d, kv[j0]}, q, n_heads, part);
    for (int h = 0; h < n_heads; ++h) std::copy_n(part + h * len, len, scores + int64_t(h) * total + j0);
  }
  const int64_t block = std::max<int64_t>(1, kDecodeBlockFloats / d);
  // Calls fn(i0, i1, rows) for the encoded rows [e0, e1), decoded one block at a time.
  const auto for_decoded_blocks = [&](int64_t e0, int64_t e1, const auto& fn) {
    thread_local AlignedBuffer<float> rows_storage;
    float* rows = rows_storage.get(size_t(block * d));
    for (int64_t i0 = e0; i0 < e1; i0 += block) {
      const int64_t i1 = std::min(e1, i0 + block);
      encoded.decode(i0, i1, rows);
      fn(i0, i1, rows);
    }
  };
  if (encoded.n > 0)
    default_thread_pool().parallel_for(encoded.n, block, [&](int64_t e0, int64_t e1) {
      thread_local AlignedBuffer<float> block_scores_storage;
      for_decoded_blocks(e0, e1, [&](int64_t i0, int64_t i1, const float* rows) {
        const int64_t len = i1 - i0;
        float* block_scores = block_scores_storage.get(size_t(n_heads * len));
        matmul(WeightMatrix{WeightFormat::kF32, len, d, rows}, q, n_heads, block_scores);
        for (int h = 0; h < n_heads; ++h) std::copy_n(block_scores + h * len, len, scores + h * total + n_kv + i0);
      });
    });
  // Heads are independent: a single query (decode) splits them between the threads, in groups of 4 that
  // read each entry once.
  default_thread_pool().parallel_for(n_heads, 4, [&](int64_t h0, int64_t h1) {
    const int heads = int(h1 - h0);
    for (int64_t h = h0; h < h1; ++h) softmax_with_sink(scores + h * total, int(total), scale, sink[h]);
    std::fill_n(o + h0 * d, heads * d, 0.0f);
    for (int j0 = 0, j1; j0 < n_kv; j0 = j1) {
      j1 = run_end(j0);
      accumulate_weighted_rows(scores + h0 * total + j0, total, heads, j1 - j0, kv[j0], d, o + h0 * d);
    }
    if (encoded.n > 0)
      for_decoded_blocks(0, encoded.n, [&](int64_t i0, int64_t i1, const float* rows) {
        accumulate_weighted_rows(scores + h0 * total + n_kv + i0, total, heads, int(i1 - i0), rows, d, o + h0 * d);
      });
  });
}

}  // namespace dsv4
