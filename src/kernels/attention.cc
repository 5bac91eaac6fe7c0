#include "kernels/attention.h"

#include <cmath>
#include <vector>

#include "base/check.h"

namespace dsv4 {

void sparse_attention(const float* q, int n_heads, int d, const float* const* kv, int n_kv, const float* sink,
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

}  // namespace dsv4
