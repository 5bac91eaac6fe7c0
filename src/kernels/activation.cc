#include "kernels/activation.h"

#include <algorithm>
#include <cmath>

#include "base/cpu_features.h"

namespace dsv4 {

void swiglu_avx512(float* g, const float* u, int64_t n, float limit, float weight);
void softmax_with_sink_avx512(float* s, int64_t n, float scale, float sink);

void swiglu_ref(float* g, const float* u, int64_t n, float limit, float weight) {
  for (int64_t i = 0; i < n; ++i) {
    float gv = g[i], uv = u[i];
    if (limit > 0) {
      uv = std::clamp(uv, -limit, limit);
      gv = std::fmin(gv, limit);
    }
    g[i] = weight * (gv / (1.0f + std::exp(-gv)) * uv);
  }
}

void softmax_with_sink_ref(float* s, int64_t n, float scale, float sink) {
  float mx = -INFINITY;
  for (int64_t j = 0; j < n; ++j) mx = std::fmax(mx, s[j] *= scale);
  float denom = 0.0f;
  for (int64_t j = 0; j < n; ++j) denom += s[j] = std::exp(s[j] - mx);
  denom += std::exp(sink - mx);
  for (int64_t j = 0; j < n; ++j) s[j] /= denom;
}

void swiglu(float* g, const float* u, int64_t n, float limit, float weight) {
  if (active_isa() == Isa::kAvx512) return swiglu_avx512(g, u, n, limit, weight);
  swiglu_ref(g, u, n, limit, weight);
}

void softmax_with_sink(float* s, int64_t n, float scale, float sink) {
  if (active_isa() == Isa::kAvx512) return softmax_with_sink_avx512(s, n, scale, sink);
  softmax_with_sink_ref(s, n, scale, sink);
}

}  // namespace dsv4
