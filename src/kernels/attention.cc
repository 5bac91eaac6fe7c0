#include "kernels/attention.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "base/check.h"
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

void sparse_attention(const float* q, int n_heads, int d, const float* const* kv, int n_kv, const float* sink,
                      float scale, float* o) {
  DSV4_CHECK(n_kv >= 1);
  thread_local std::vector<float> rows, cols, scores;  // entries by row, entries by column, [n_heads, n_kv]
  rows.resize(size_t(n_kv) * size_t(d));
  cols.resize(rows.size());
  scores.resize(size_t(n_heads) * size_t(n_kv));
  for (int j = 0; j < n_kv; ++j) std::memcpy(&rows[size_t(j) * size_t(d)], kv[j], size_t(d) * sizeof(float));
  matmul(WeightMatrix{WeightFormat::kF32, n_kv, d, rows.data()}, q, n_heads, scores.data());
  for (int h = 0; h < n_heads; ++h) softmax_with_sink(&scores[size_t(h) * size_t(n_kv)], n_kv, scale, sink[h]);
  for (int j = 0; j < n_kv; ++j)
    for (int k = 0; k < d; ++k) cols[size_t(k) * size_t(n_kv) + size_t(j)] = rows[size_t(j) * size_t(d) + size_t(k)];
  matmul(WeightMatrix{WeightFormat::kF32, d, n_kv, cols.data()}, scores.data(), n_heads, o);
}

}  // namespace dsv4
