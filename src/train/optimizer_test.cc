// Muon and AdamW tests from training.md §1.7: singular values after Newton–Schulz (against an exact
// spectrum built from known U, S, V), transpose symmetry, scale invariance, update RMS, momentum-form
// equivalence, decoupled weight decay, per-matrix orthogonalisation, and AdamW against a scalar transcription.
#include "train/optimizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace dsv4 {
namespace {

using Mat = std::vector<double>;  // row-major

// Columns of a [n, k] matrix with orthonormal columns (Gram–Schmidt of Gaussian columns, twice).
Mat orthonormal_columns(int n, int k, std::mt19937& rng) {
  std::normal_distribution<double> nd;
  Mat q(size_t(n) * k);
  for (double& v : q) v = nd(rng);
  for (int pass = 0; pass < 2; ++pass)
    for (int j = 0; j < k; ++j) {
      for (int i = 0; i < j; ++i) {
        double dot = 0;
        for (int r = 0; r < n; ++r) dot += q[size_t(r * k + i)] * q[size_t(r * k + j)];
        for (int r = 0; r < n; ++r) q[size_t(r * k + j)] -= dot * q[size_t(r * k + i)];
      }
      double nrm = 0;
      for (int r = 0; r < n; ++r) nrm += q[size_t(r * k + j)] * q[size_t(r * k + j)];
      nrm = std::sqrt(nrm);
      for (int r = 0; r < n; ++r) q[size_t(r * k + j)] /= nrm;
    }
  return q;
}

// A = U·diag(s)·Vᵀ for U [m, m], V [n, m] (m ≤ n); also returns U·Vᵀ, the exact polar factor.
struct Spectral {
  std::vector<float> a;
  Mat polar;
};
Spectral make_matrix(int m, int n, const std::vector<double>& s, std::mt19937& rng) {
  const Mat U = orthonormal_columns(m, m, rng), V = orthonormal_columns(n, m, rng);
  Spectral out{std::vector<float>(size_t(m) * n), Mat(size_t(m) * n)};
  for (int r = 0; r < m; ++r)
    for (int c = 0; c < n; ++c) {
      double a = 0, p = 0;
      for (int i = 0; i < m; ++i) {
        a += U[size_t(r * m + i)] * s[size_t(i)] * V[size_t(c * m + i)];
        p += U[size_t(r * m + i)] * V[size_t(c * m + i)];
      }
      out.a[size_t(r * n + c)] = float(a);
      out.polar[size_t(r * n + c)] = p;
    }
  return out;
}

// Singular values of a [m, n] matrix (m ≤ n): square roots of the eigenvalues of X·Xᵀ by cyclic Jacobi.
std::vector<double> singular_values(const std::vector<float>& x, int m, int n) {
  Mat g(size_t(m) * m, 0.0);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j)
      for (int c = 0; c < n; ++c) g[size_t(i * m + j)] += double(x[size_t(i * n + c)]) * x[size_t(j * n + c)];
  for (int sweep = 0; sweep < 60; ++sweep) {
    double off = 0;
    for (int p = 0; p < m; ++p)
      for (int q = p + 1; q < m; ++q) off += g[size_t(p * m + q)] * g[size_t(p * m + q)];
    if (off < 1e-26) break;
    for (int p = 0; p < m; ++p)
      for (int q = p + 1; q < m; ++q) {
        const double apq = g[size_t(p * m + q)];
        if (std::fabs(apq) < 1e-300) continue;
        const double theta = (g[size_t(q * m + q)] - g[size_t(p * m + p)]) / (2 * apq);
        const double t = (theta >= 0 ? 1 : -1) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < m; ++k) {  // rotate columns p, q then rows p, q
          const double gkp = g[size_t(k * m + p)], gkq = g[size_t(k * m + q)];
          g[size_t(k * m + p)] = c * gkp - s * gkq;
          g[size_t(k * m + q)] = s * gkp + c * gkq;
        }
        for (int k = 0; k < m; ++k) {
          const double gpk = g[size_t(p * m + k)], gqk = g[size_t(q * m + k)];
          g[size_t(p * m + k)] = c * gpk - s * gqk;
          g[size_t(q * m + k)] = s * gpk + c * gqk;
        }
      }
  }
  std::vector<double> sv(static_cast<size_t>(m));
  for (int i = 0; i < m; ++i) sv[size_t(i)] = std::sqrt(std::max(0.0, g[size_t(i * m + i)]));
  return sv;
}

std::vector<double> log_spaced(int k, double hi, double lo) {
  std::vector<double> s(static_cast<size_t>(k));
  for (int i = 0; i < k; ++i) s[size_t(i)] = hi * std::pow(lo / hi, double(i) / (k - 1));
  return s;
}

std::vector<float> gaussian(size_t n, std::mt19937& rng, float stddev = 1.0f) {
  std::normal_distribution<float> nd(0.0f, stddev);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  return v;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, double(std::fabs(a[i] - b[i])));
  return d;
}

TEST(NewtonSchulz, HybridSettlesSingularValuesAtOneAndMatchesThePolarFactor) {
  std::mt19937 rng(1);
  const int m = 64, n = 256;
  const Spectral A = make_matrix(m, n, log_spaced(m, 1.0, 1.0 / 50), rng);  // condition number 50
  std::vector<float> o(A.a.size());
  newton_schulz(A.a.data(), m, n, NsVariant::kV4Hybrid, o.data());
  const std::vector<double> sv = singular_values(o, m, n);
  EXPECT_GE(*std::min_element(sv.begin(), sv.end()), 0.99);
  EXPECT_LE(*std::max_element(sv.begin(), sv.end()), 1.01);
  double num = 0, den = 0;
  for (size_t i = 0; i < o.size(); ++i) {
    num += (o[i] - A.polar[i]) * (o[i] - A.polar[i]);
    den += A.polar[i] * A.polar[i];
  }
  EXPECT_LT(std::sqrt(num / den), 1e-2);
}

TEST(NewtonSchulz, KellerJordanFiveStepsLeavesABandAroundOne) {
  std::mt19937 rng(2);
  const int m = 64, n = 256;
  const Spectral A = make_matrix(m, n, log_spaced(m, 1.0, 1.0 / 50), rng);
  std::vector<float> o(A.a.size());
  newton_schulz(A.a.data(), m, n, NsVariant::kKellerJordan5, o.data());
  const std::vector<double> sv = singular_values(o, m, n);
  const double lo = *std::min_element(sv.begin(), sv.end()), hi = *std::max_element(sv.begin(), sv.end());
  EXPECT_GE(lo, 0.6);
  EXPECT_LE(hi, 1.25);
  EXPECT_GT(hi - lo, 0.05);  // five steps do not converge: the band is what distinguishes the variants
}

TEST(NewtonSchulz, TransposeSymmetry) {
  std::mt19937 rng(3);
  const int rows = 48, cols = 80;
  const std::vector<float> g = gaussian(size_t(rows * cols), rng);
  std::vector<float> gt(g.size()), o(g.size()), ot(g.size());
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) gt[size_t(c * rows + r)] = g[size_t(r * cols + c)];
  for (NsVariant v : {NsVariant::kV4Hybrid, NsVariant::kKellerJordan5}) {
    newton_schulz(g.data(), rows, cols, v, o.data());
    newton_schulz(gt.data(), cols, rows, v, ot.data());
    double d = 0;
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) d = std::max(d, double(std::fabs(o[size_t(r * cols + c)] - ot[size_t(c * rows + r)])));
    EXPECT_LT(d, 1e-6);
  }
}

TEST(NewtonSchulz, ScaleInvariance) {
  std::mt19937 rng(4);
  const int rows = 32, cols = 96;
  const std::vector<float> g = gaussian(size_t(rows * cols), rng);
  std::vector<float> o(g.size()), oc(g.size()), gc(g.size());
  newton_schulz(g.data(), rows, cols, NsVariant::kV4Hybrid, o.data());
  for (float c : {1e-3f, 7.5f, 1e3f}) {
    for (size_t i = 0; i < g.size(); ++i) gc[i] = c * g[i];
    newton_schulz(gc.data(), rows, cols, NsVariant::kV4Hybrid, oc.data());
    EXPECT_LT(max_abs_diff(o, oc), 1e-4) << "c=" << c;
  }
}

double rms(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  return std::sqrt(s / double(v.size()));
}

TEST(Muon, UpdateRmsIsTheConfiguredGamma) {
  std::mt19937 rng(5);
  for (auto [rows, cols] : {std::pair{64, 192}, std::pair{192, 64}, std::pair{96, 96}})
    for (float gamma : {0.18f, 0.2f}) {
      const size_t size = size_t(rows * cols);
      std::vector<float> w(size, 0.0f), mom(size, 0.0f);
      const std::vector<float> g = gaussian(size, rng);
      MuonOptions opt;
      opt.update_rms = gamma;
      opt.weight_decay = 0.0f;
      muon_step(w.data(), g.data(), mom.data(), 1, rows, cols, /*lr=*/1.0f, opt);  // w = −O
      EXPECT_NEAR(rms(w), gamma, 0.01 * gamma) << rows << "x" << cols;
    }
}

// V4: M ← μM + G, NS(μM + G). Keller Jordan: m ← βm + (1−β)G, NS((1−β)G + βm). From zero state the
// inputs differ by the factor (1−β) and NS normalises it away (training.md §1.2).
TEST(Muon, MomentumFormsAreEquivalent) {
  std::mt19937 rng(6);
  const int rows = 24, cols = 40;
  const size_t size = size_t(rows * cols);
  const float beta = 0.95f, lr = 0.01f;
  MuonOptions opt;
  opt.weight_decay = 0.0f;
  const float scale = std::sqrt(40.0f) * opt.update_rms;
  std::vector<float> w(size, 0.0f), mom(size, 0.0f), kj_m(size, 0.0f), u(size), o(size), prev(size);
  for (int step = 0; step < 4; ++step) {
    const std::vector<float> g = gaussian(size, rng);
    prev = w;
    muon_step(w.data(), g.data(), mom.data(), 1, rows, cols, lr, opt);
    for (size_t i = 0; i < size; ++i) {
      kj_m[i] = beta * kj_m[i] + (1 - beta) * g[i];
      u[i] = (1 - beta) * g[i] + beta * kj_m[i];
    }
    newton_schulz(u.data(), rows, cols, NsVariant::kV4Hybrid, o.data());
    for (size_t i = 0; i < size; ++i) EXPECT_NEAR(prev[i] - w[i], lr * scale * o[i], 1e-6) << "step " << step;
  }
}

TEST(Muon, WeightDecayIsOneMultiplicationWithTheUnscaledLr) {
  std::mt19937 rng(7);
  const int rows = 16, cols = 32;
  const size_t size = size_t(rows * cols);
  const std::vector<float> w0 = gaussian(size, rng), g = gaussian(size, rng);
  MuonOptions opt;  // λ = 0.1, γ = 0.18
  const float lr = 0.05f;
  std::vector<float> w = w0, mom(size, 0.0f), zero(size, 0.0f);
  muon_step(w.data(), zero.data(), mom.data(), 1, rows, cols, lr, opt);  // NS(0) = 0: decay only
  for (size_t i = 0; i < size; ++i) EXPECT_FLOAT_EQ(w[i], w0[i] * (1 - lr * 0.1f));

  w = w0;
  std::fill(mom.begin(), mom.end(), 0.0f);
  muon_step(w.data(), g.data(), mom.data(), 1, rows, cols, lr, opt);
  std::vector<float> u(size), o(size);
  for (size_t i = 0; i < size; ++i) u[i] = opt.momentum * g[i] + g[i];
  newton_schulz(u.data(), rows, cols, opt.ns, o.data());
  const float scale = std::sqrt(32.0f) * 0.18f;
  for (size_t i = 0; i < size; ++i) EXPECT_NEAR(w[i], w0[i] * (1 - lr * 0.1f) - lr * scale * o[i], 1e-6);
}

// Stacked matrices (wo_a's groups, experts) are orthogonalised one by one, not as one tall matrix.
TEST(Muon, EachStackedMatrixIsOrthogonalisedSeparately) {
  std::mt19937 rng(8);
  const int rows = 16, cols = 48, n = 3;
  const size_t size = size_t(rows * cols);
  std::vector<float> g = gaussian(n * size, rng);
  for (size_t i = size; i < 2 * size; ++i) g[i] *= 100.0f;  // very different scales per matrix
  MuonOptions opt;
  opt.weight_decay = 0.0f;
  std::vector<float> w(n * size, 0.0f), mom(n * size, 0.0f);
  muon_step(w.data(), g.data(), mom.data(), n, rows, cols, 1.0f, opt);
  for (int e = 0; e < n; ++e) {
    std::vector<float> we(w.begin() + long(e * size), w.begin() + long((e + 1) * size));
    EXPECT_NEAR(rms(we), 0.18, 0.0018) << "matrix " << e;
    std::vector<float> ws(size, 0.0f), ms(size, 0.0f), ge(g.begin() + long(e * size), g.begin() + long((e + 1) * size));
    muon_step(ws.data(), ge.data(), ms.data(), 1, rows, cols, 1.0f, opt);
    EXPECT_LT(max_abs_diff(we, ws), 1e-6);
  }
}

TEST(AdamW, MatchesTheScalarFormulaWithBiasCorrectionAndDecoupledDecay) {
  std::mt19937 rng(9);
  const int n = 17;
  AdamWOptions opt;
  std::vector<float> w = gaussian(n, rng), m(n, 0.0f), v(n, 0.0f);
  std::vector<double> wd(w.begin(), w.end()), md(n, 0.0), vd(n, 0.0);
  const float lr = 1e-2f;
  for (int step = 1; step <= 5; ++step) {
    const std::vector<float> g = gaussian(n, rng);
    adamw_step(w.data(), g.data(), m.data(), v.data(), n, step, lr, opt);
    for (int i = 0; i < n; ++i) {
      md[size_t(i)] = 0.9 * md[size_t(i)] + 0.1 * g[size_t(i)];
      vd[size_t(i)] = 0.95 * vd[size_t(i)] + 0.05 * double(g[size_t(i)]) * g[size_t(i)];
      const double mh = md[size_t(i)] / (1 - std::pow(0.9, step)), vh = vd[size_t(i)] / (1 - std::pow(0.95, step));
      wd[size_t(i)] = wd[size_t(i)] * (1 - lr * 0.1) - lr * mh / (std::sqrt(vh) + 1e-8);
      EXPECT_NEAR(w[size_t(i)], wd[size_t(i)], 1e-5);
    }
  }
  // The first step moves every coordinate by ≈ lr (sign of the gradient): Adam's unit step.
  std::vector<float> w1(n, 0.0f), m1(n, 0.0f), v1(n, 0.0f);
  const std::vector<float> g = gaussian(n, rng);
  adamw_step(w1.data(), g.data(), m1.data(), v1.data(), n, 1, lr, opt);
  for (int i = 0; i < n; ++i) EXPECT_NEAR(w1[size_t(i)], -lr * (g[size_t(i)] > 0 ? 1 : -1), 1e-6);
}

}  // namespace
}  // namespace dsv4
