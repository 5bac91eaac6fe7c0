// Central finite-difference gradient checks in FP64 (training.md §5): for a sample of coordinates of
// each tensor, (L(x + h) − L(x − h)) / 2h against the analytic gradient. h = 1e-5·max(1, |x|) (cs231n's
// h; with FP64 the truncation error h² and the rounding error ε·|L|/h are both far below 1e-6).
// Error per coordinate: |a − n| / max(|a|, |n|, 1e-3·G), G the largest analytic gradient component over
// all tensors of the check — relative, except that components a thousand times smaller than G are
// compared against that scale: the finite differences' own error is absolute (ε·|L|/h rounding), the
// same for every tensor of one loss, so their relative error there is noise, not a wrong gradient.
// Also the random fixtures the checks share. Test-only: included by the *_test.cc files alone.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "train/block.h"

namespace dsv4::train {

struct GradCheckTensor {
  std::string name;
  std::vector<double>* value;        // perturbed in place, restored after each coordinate
  const std::vector<double>* grad;   // analytic gradient, same size
};

struct GradCheckReport {
  double max_error = 0;
  std::string worst;  // "name[index]: analytic vs numeric"
  int checked = 0;
};

inline GradCheckReport grad_check(const std::function<double()>& loss, const std::vector<GradCheckTensor>& tensors,
                                  int max_coords_per_tensor = 64, uint64_t seed = 1) {
  GradCheckReport report;
  std::mt19937_64 rng(seed);
  double gmax = 0;
  for (const GradCheckTensor& t : tensors)
    for (double v : *t.grad) gmax = std::max(gmax, std::fabs(v));
  for (const GradCheckTensor& t : tensors) {
    std::vector<double>& x = *t.value;
    const std::vector<double>& g = *t.grad;
    if (x.size() != g.size()) {
      report.max_error = INFINITY;
      report.worst = t.name + ": gradient size differs from value size";
      return report;
    }
    if (x.empty()) continue;
    std::vector<size_t> idx(x.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    if (int64_t(idx.size()) > max_coords_per_tensor) {
      std::shuffle(idx.begin(), idx.end(), rng);
      idx.resize(static_cast<size_t>(max_coords_per_tensor));
    }
    for (size_t i : idx) {
      const double x0 = x[i], h = 1e-5 * std::max(1.0, std::fabs(x0));
      x[i] = x0 + h;
      const double lp = loss();
      x[i] = x0 - h;
      const double lm = loss();
      x[i] = x0;
      const double num = (lp - lm) / (2 * h), a = g[i];
      const double err = std::fabs(a - num) / std::max({std::fabs(a), std::fabs(num), 1e-3 * gmax, 1e-300});
      ++report.checked;
      if (!(err <= report.max_error)) {  // also catches NaN
        report.max_error = std::isnan(err) ? INFINITY : err;
        report.worst = t.name + "[" + std::to_string(i) + "]: analytic " + std::to_string(a) + " vs numeric " +
                       std::to_string(num);
      }
    }
  }
  return report;
}

// The tolerance of every check, op to whole model (training.md §5).
inline void expect_passes(const GradCheckReport& r) {
  EXPECT_GT(r.checked, 0);
  EXPECT_LT(r.max_error, 1e-6) << r.worst;
  std::printf("  max error %.3g over %d coordinates\n", r.max_error, r.checked);
}

// Σ r ⊙ y: the scalar whose gradient with respect to y is r (a random projection of an op's output).
inline double project(const std::vector<double>& r, const std::vector<double>& y) {
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += r[i] * y[i];
  return s;
}

inline std::vector<double> random_vector(size_t n, std::mt19937_64& rng, double scale = 1.0) {
  std::normal_distribution<double> nd(0.0, scale);
  std::vector<double> v(n);
  for (double& x : v) x = nd(rng);
  return v;
}

// The (value, gradient) pairs of a parameter struct with a for_each(prefix, f(name, vector)) walk; both
// structs must be shaped alike. Empty tensors are skipped.
template <typename P>
std::vector<GradCheckTensor> param_tensors(P& params, P& grads, const std::string& prefix = "") {
  std::vector<GradCheckTensor> out;
  params.for_each(prefix, [&](const std::string& name, std::vector<double>& v) {
    if (!v.empty()) out.push_back({name, &v, nullptr});
  });
  size_t i = 0;
  grads.for_each(prefix, [&](const std::string&, std::vector<double>& g) {
    if (!g.empty()) out[i++].grad = &g;
  });
  return out;
}

// Fills every tensor of a parameter struct with N(0, scale²) values, RMSNorm weights (names ending in
// "norm.weight") with N(1, scale²) so that normalised activations keep their size.
template <typename P>
void randomize(P& params, std::mt19937_64& rng, double scale) {
  std::normal_distribution<double> nd(0.0, scale);
  params.for_each("", [&](const std::string& name, std::vector<double>& v) {
    const bool norm = name.ends_with("norm.weight");
    for (double& x : v) x = nd(rng) + (norm ? 1.0 : 0.0);
  });
}

// A block small enough for finite differences over every parameter (dim 8, 2 heads × 8, 4 experts).
inline BlockDims<double> small_block(int ratio, bool hash) {
  BlockDims<double> b;
  b.hc.hc = 4;
  b.hc.dim = 8;
  b.attn.dim = 8;
  b.attn.n_heads = 2;
  b.attn.head_dim = 8;
  b.attn.rope_dim = 4;
  b.attn.q_lora_rank = 6;
  b.attn.o_groups = 2;
  b.attn.o_lora_rank = 4;
  b.attn.window = 4;
  b.attn.ratio = ratio;
  b.moe.dim = 8;
  b.moe.n_experts = 4;
  b.moe.top_k = 2;
  b.moe.inter = 6;
  b.moe.route_scale = 1.5;
  b.moe.swiglu_limit = 2.0;
  b.moe.hash = hash;
  return b;
}

}  // namespace dsv4::train
