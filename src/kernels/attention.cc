#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

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

void accumulate_weighted_rows_ref(const float* w, int n, const float* rows, int d, float* out) {
  for (int j = 0; j < n; ++j)
    for (int k = 0; k < d; ++k) out[k] = std::fma(w[j], rows[int64_t(j) * d + k], out[k]);
}

void accumulate_weighted_rows(const float* w, int n, const float* rows, int d, float* out) {
  if (active_isa() == Isa::kAvx512) return accumulate_weighted_rows_avx512(w, n, rows, d, out);
  accumulate_weighted_rows_ref(w, n, rows, d, out);
}

void sparse_attention(const float* q, int n_heads, int d, const float* const* kv, int n_kv, const float* sink,
                      float scale, float* o) {
  DSV4_CHECK(n_kv >= 1);
  thread_local std::vector<float> scores, part;  // [n_heads, n_kv], [n_heads, run]
  scores.resize(size_t(n_heads) * size_t(n_kv));
  const auto run_end = [&](int j0) {
    int j1 = j0 + 1;
    while (j1 < n_kv && kv[j1] == kv[j1 - 1] + d) ++j1;
    return j1;
  };
  for (int j0 = 0, j1; j0 < n_kv; j0 = j1) {
    j1 = run_end(j0);
    const int len = j1 - j0;
    part.resize(size_t(n_heads) * size_t(len));
    matmul(WeightMatrix{WeightFormat::kF32, len, d, kv[j0]}, q, n_heads, part.data());
    for (int h = 0; h < n_heads; ++h)
      std::copy_n(&part[size_t(h) * size_t(len)], len, &scores[size_t(h) * size_t(n_kv) + size_t(j0)]);
  }
  // Heads are independent: a single query (decode) splits them between the threads. (A lambda names a
  // thread_local as the running thread's own, so the workers get this thread's scores by reference.)
  std::vector<float>& sc = scores;
  default_thread_pool().parallel_for(n_heads, 1, [&](int64_t h0, int64_t h1) {
    for (int64_t h = h0; h < h1; ++h) {
      float* p = &sc[size_t(h) * size_t(n_kv)];
      softmax_with_sink(p, n_kv, scale, sink[h]);
      std::fill_n(o + h * d, d, 0.0f);
      for (int j0 = 0, j1; j0 < n_kv; j0 = j1) {
        j1 = run_end(j0);
        accumulate_weighted_rows(p + j0, j1 - j0, kv[j0], d, o + h * d);
      }
    }
  });
}

}  // namespace dsv4
