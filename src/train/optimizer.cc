#include "train/optimizer.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"
#include "train/gemm.h"

namespace dsv4 {

namespace {

struct NsCoefficients {
  float a, b, c;
};
constexpr NsCoefficients kFast{3.4445f, -4.7750f, 2.0315f};   // steepest slope at 0 (Keller Jordan)
constexpr NsCoefficients kSettle{2.0f, -1.5f, 0.5f};          // p(1) = 1, p′(1) = 0 (V4's last 2 steps)

// X ← a·X + (b·A + c·A²)·X, A = X·Xᵀ, for X [m, n] with m ≤ n. `tmp` holds m·n floats, `gram` 2·m·m.
void ns_step(float* x, float* tmp, float* gram, int64_t m, int64_t n, NsCoefficients k) {
  float* A = gram;
  float* B = gram + m * m;
  gemm(false, true, m, m, n, 1.0f, x, n, x, n, 0.0f, A, m);
  gemm(false, false, m, m, m, k.c, A, m, A, m, 0.0f, B, m);
  for (int64_t i = 0; i < m * m; ++i) B[i] += k.b * A[i];
  std::copy_n(x, m * n, tmp);
  gemm(false, false, m, n, m, 1.0f, B, m, tmp, n, k.a, x, n);
}

}  // namespace

void newton_schulz(const float* g, int64_t rows, int64_t cols, NsVariant variant, float* out) {
  DSV4_CHECK(rows > 0 && cols > 0);
  const bool transpose = rows > cols;  // work on X [m, n] with m ≤ n: the Gram matrix is m × m
  const int64_t m = transpose ? cols : rows, n = transpose ? rows : cols;
  std::vector<float> x(size_t(m * n)), tmp(size_t(m * n)), gram(size_t(2 * m * m));
  double sq = 0.0;
  for (int64_t i = 0; i < rows * cols; ++i) sq += double(g[i]) * g[i];
  const float inv = float(1.0 / (std::sqrt(sq) + 1e-7));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      x[size_t(transpose ? c * n + r : r * n + c)] = g[r * cols + c] * inv;

  const int fast_steps = variant == NsVariant::kV4Hybrid ? 8 : 5;
  const int settle_steps = variant == NsVariant::kV4Hybrid ? 2 : 0;
  for (int s = 0; s < fast_steps; ++s) ns_step(x.data(), tmp.data(), gram.data(), m, n, kFast);
  for (int s = 0; s < settle_steps; ++s) ns_step(x.data(), tmp.data(), gram.data(), m, n, kSettle);

  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[r * cols + c] = x[size_t(transpose ? c * n + r : r * n + c)];
}

void muon_step(float* w, const float* grad, float* momentum, int64_t n_matrices, int64_t rows, int64_t cols,
               float lr, const MuonOptions& opt) {
  const int64_t size = rows * cols;
  const float scale = std::sqrt(float(std::max(rows, cols))) * opt.update_rms;
  std::vector<float> u(static_cast<size_t>(size));
  for (int64_t e = 0; e < n_matrices; ++e) {
    float* we = w + e * size;
    float* me = momentum + e * size;
    const float* ge = grad + e * size;
    for (int64_t i = 0; i < size; ++i) {
      me[i] = opt.momentum * me[i] + ge[i];
      u[size_t(i)] = opt.nesterov ? opt.momentum * me[i] + ge[i] : me[i];
    }
    newton_schulz(u.data(), rows, cols, opt.ns, u.data());
    const float decay = 1.0f - lr * opt.weight_decay;
    for (int64_t i = 0; i < size; ++i) we[i] = we[i] * decay - lr * scale * u[size_t(i)];
  }
}

void adamw_step(float* w, const float* grad, float* m, float* v, int64_t n, int64_t step, float lr,
                const AdamWOptions& opt) {
  DSV4_CHECK(step >= 1);
  const float c1 = 1.0f - float(std::pow(double(opt.beta1), double(step)));
  const float c2 = 1.0f - float(std::pow(double(opt.beta2), double(step)));
  const float decay = 1.0f - lr * opt.weight_decay;
  for (int64_t i = 0; i < n; ++i) {
    m[i] = opt.beta1 * m[i] + (1.0f - opt.beta1) * grad[i];
    v[i] = opt.beta2 * v[i] + (1.0f - opt.beta2) * grad[i] * grad[i];
    const float mhat = m[i] / c1, vhat = v[i] / c2;
    w[i] = w[i] * decay - lr * mhat / (std::sqrt(vhat) + opt.eps);
  }
}

}  // namespace dsv4
