// Elementwise activations of the model, with scalar references and SIMD variants:
//   swiglu: a = silu(min(g, L)) · clamp(u, −L, L) · weight   (L = 0: no clamp), in place on g
//   softmax_with_sink: p_j = e^(z_j − M) / (Σ_j e^(z_j − M) + e^(sink − M)), z = scale · s, M = max_j z_j
#pragma once

#include <cstdint>

namespace dsv4 {

void swiglu(float* g, const float* u, int64_t n, float limit, float weight);
void swiglu_ref(float* g, const float* u, int64_t n, float limit, float weight);

// In place on s[0, n), n >= 1.
void softmax_with_sink(float* s, int64_t n, float scale, float sink);
void softmax_with_sink_ref(float* s, int64_t n, float scale, float sink);

}  // namespace dsv4
