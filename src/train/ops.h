// The small ops of the model, forward and backward side by side, templated on the scalar type T (float
// to train, double for the finite-difference checks in ops_test.cc). Conventions for every pair:
//   * forward writes its outputs; backward takes the upstream gradient d<out> and ADDS into d<input> and
//     d<weight> (so a tensor used twice accumulates naturally); callers zero gradients once per step;
//   * backward recomputes what it needs from the forward's inputs (these ops are cheap) unless a saved
//     value is named in the signature;
//   * shapes are written beside every argument, rows first.
// Numerics follow the FP32 semantics of the inference engine (model/*.cc) without the FP8/FP4/BF16
// simulations: training runs in plain FP32 (quantisation-aware training is a later step).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "base/check.h"
#include "train/gemm.h"

namespace dsv4::train {

// ---- embedding: y[t] = table[ids[t]] --------------------------------------------------------------

template <typename T>
void embedding_forward(const T* table /*[V, D]*/, const int32_t* ids /*[n]*/, int64_t n, int64_t D, T* y /*[n, D]*/) {
  for (int64_t t = 0; t < n; ++t) std::copy_n(table + int64_t(ids[t]) * D, D, y + t * D);
}

template <typename T>
void embedding_backward(const int32_t* ids, int64_t n, int64_t D, const T* dy /*[n, D]*/, T* dtable /*[V, D]*/) {
  for (int64_t t = 0; t < n; ++t)
    for (int64_t d = 0; d < D; ++d) dtable[int64_t(ids[t]) * D + d] += dy[t * D + d];
}

// ---- linear: y = x·Wᵀ (W [out, in], the checkpoint layout) ------------------------------------------

template <typename T>
void linear_forward(const T* x /*[n, in]*/, const T* w /*[out, in]*/, int64_t n, int64_t in, int64_t out,
                    T* y /*[n, out]*/) {
  gemm(false, true, n, out, in, T(1), x, in, w, in, T(0), y, out);
}

// dx += dy·W, dw += dyᵀ·x; either may be null (an input that needs no gradient).
template <typename T>
void linear_backward(const T* x, const T* w, int64_t n, int64_t in, int64_t out, const T* dy /*[n, out]*/,
                     T* dx /*[n, in]*/, T* dw /*[out, in]*/) {
  if (dx) gemm(false, false, n, in, out, T(1), dy, out, w, in, T(1), dx, in);
  if (dw) gemm(true, false, out, in, n, T(1), dy, out, x, in, T(1), dw, in);
}

// ---- RMSNorm over rows: y = w ⊙ x · r, r = 1/sqrt(mean(x²) + eps); w may be null (no weight) --------

template <typename T>
T rms_inverse(const T* x, int64_t d, T eps) {
  T s = 0;
  for (int64_t i = 0; i < d; ++i) s += x[i] * x[i];
  return T(1) / std::sqrt(s / T(d) + eps);
}

template <typename T>
void rmsnorm_forward(const T* x /*[n, d]*/, const T* w /*[d] or null*/, int64_t n, int64_t d, T eps, T* y) {
  for (int64_t t = 0; t < n; ++t) {
    const T* xt = x + t * d;
    const T r = rms_inverse(xt, d, eps);
    for (int64_t i = 0; i < d; ++i) y[t * d + i] = (w ? w[i] : T(1)) * xt[i] * r;
  }
}

// With g = w ⊙ dy: dx = r·g − (r³/d)·⟨g, x⟩·x;  dw += dy ⊙ x · r.
template <typename T>
void rmsnorm_backward(const T* x, const T* w, int64_t n, int64_t d, T eps, const T* dy, T* dx, T* dw) {
  for (int64_t t = 0; t < n; ++t) {
    const T* xt = x + t * d;
    const T* dyt = dy + t * d;
    const T r = rms_inverse(xt, d, eps);
    T dot = 0;
    for (int64_t i = 0; i < d; ++i) dot += (w ? w[i] : T(1)) * dyt[i] * xt[i];
    const T c = r * r * r / T(d) * dot;
    if (dx)
      for (int64_t i = 0; i < d; ++i) dx[t * d + i] += r * (w ? w[i] : T(1)) * dyt[i] - c * xt[i];
    if (dw)
      for (int64_t i = 0; i < d; ++i) dw[i] += dyt[i] * xt[i] * r;
  }
}

// ---- SwiGLU with clamp: a = silu(min(g, L)) · clamp(u, −L, L) · rw ---------------------------------
// (model/moe.cc, reference Expert.forward). L = 0 disables the clamp. rw is the routed expert's weight
// (1 for the shared expert); the clamps are where the derivative is zero.

template <typename T>
T sigmoid(T v) {
  return T(1) / (T(1) + std::exp(-v));
}

template <typename T>
void swiglu_forward(const T* g /*[n, I]*/, const T* u /*[n, I]*/, const T* rw /*[n] or null*/, int64_t n,
                    int64_t I, T limit, T* a /*[n, I]*/) {
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < I; ++i) {
      T gv = g[t * I + i], uv = u[t * I + i];
      if (limit > 0) {
        gv = std::min(gv, limit);
        uv = std::clamp(uv, -limit, limit);
      }
      a[t * I + i] = gv * sigmoid(gv) * uv * (rw ? rw[t] : T(1));
    }
}

template <typename T>
void swiglu_backward(const T* g, const T* u, const T* rw, int64_t n, int64_t I, T limit, const T* da,
                     T* dg, T* du, T* drw /*[n] or null*/) {
  for (int64_t t = 0; t < n; ++t) {
    const T w = rw ? rw[t] : T(1);
    T acc = 0;
    for (int64_t i = 0; i < I; ++i) {
      T gv = g[t * I + i], uv = u[t * I + i];
      const bool g_live = !(limit > 0) || gv < limit;
      const bool u_live = !(limit > 0) || (uv > -limit && uv < limit);
      if (limit > 0) {
        gv = std::min(gv, limit);
        uv = std::clamp(uv, -limit, limit);
      }
      const T s = sigmoid(gv), silu = gv * s, dsilu = s * (T(1) + gv * (T(1) - s));
      const T d = da[t * I + i];
      if (dg && g_live) dg[t * I + i] += d * w * uv * dsilu;
      if (du && u_live) du[t * I + i] += d * w * silu;
      acc += d * silu * uv;
    }
    if (drw) drw[t] += acc;
  }
}

// ---- softmax cross-entropy: loss = Σ_t −log softmax(z_t)[y_t] / count; targets < 0 are ignored -------

template <typename T>
T cross_entropy_forward(const T* logits /*[n, V]*/, const int32_t* targets /*[n]*/, int64_t n, int64_t V) {
  T loss = 0;
  int64_t count = 0;
  for (int64_t t = 0; t < n; ++t) {
    if (targets[t] < 0) continue;
    const T* z = logits + t * V;
    const T mx = *std::max_element(z, z + V);
    T s = 0;
    for (int64_t v = 0; v < V; ++v) s += std::exp(z[v] - mx);
    loss += std::log(s) + mx - z[targets[t]];
    ++count;
  }
  return count ? loss / T(count) : T(0);
}

// dz = scale · (softmax(z) − onehot(y)) / count, accumulated; scale is the loss's weight (e.g. MTP λ).
template <typename T>
void cross_entropy_backward(const T* logits, const int32_t* targets, int64_t n, int64_t V, T scale, T* dlogits) {
  int64_t count = 0;
  for (int64_t t = 0; t < n; ++t) count += targets[t] >= 0;
  if (!count) return;
  for (int64_t t = 0; t < n; ++t) {
    if (targets[t] < 0) continue;
    const T* z = logits + t * V;
    const T mx = *std::max_element(z, z + V);
    T s = 0;
    for (int64_t v = 0; v < V; ++v) s += std::exp(z[v] - mx);
    for (int64_t v = 0; v < V; ++v)
      dlogits[t * V + v] += scale * (std::exp(z[v] - mx) / s - (v == targets[t] ? T(1) : T(0))) / T(count);
  }
}

// ---- RoPE on interleaved pairs (kernels/rope.h): rotate x[2i], x[2i+1] by angle pos·f_i ------------
// A rotation is orthogonal, so the backward is the inverse rotation of the gradient. In place.

template <typename T>
void rope_rotate(T* x, const std::vector<float>& freqs, int64_t pos, bool inverse) {
  for (size_t i = 0; i < freqs.size(); ++i) {
    // The angle in FP32 as the reference computes it, then the rotation in T.
    const float angle = float(pos) * freqs[i];
    const T c = T(std::cos(angle)), s = T(inverse ? -std::sin(angle) : std::sin(angle));
    const T a = x[2 * i], b = x[2 * i + 1];
    x[2 * i] = a * c - b * s;
    x[2 * i + 1] = a * s + b * c;
  }
}

template <typename T>
void rope_backward(T* dx, const std::vector<float>& freqs, int64_t pos, bool inverse) {
  rope_rotate(dx, freqs, pos, !inverse);
}

}  // namespace dsv4::train
