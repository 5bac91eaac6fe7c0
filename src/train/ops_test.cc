// Finite-difference checks (FP64) of the small ops in ops.h: every input and weight of every op.
// Tolerance 1e-6 (training.md §5: smooth ops in double).
#include "train/ops.h"

#include <gtest/gtest.h>

#include "kernels/rope.h"
#include "train/grad_check.h"

namespace dsv4::train {
namespace {

TEST(OpsGrad, Embedding) {
  std::mt19937_64 rng(1);
  const int64_t V = 7, D = 5, n = 6;
  const int32_t ids[n] = {3, 0, 3, 6, 1, 3};  // repeated ids accumulate
  std::vector<double> table = random_vector(V * D, rng), r = random_vector(n * D, rng), y(n * D);
  auto loss = [&] {
    embedding_forward(table.data(), ids, n, D, y.data());
    return project(r, y);
  };
  std::vector<double> dtable(table.size(), 0.0);
  embedding_backward(ids, n, D, r.data(), dtable.data());
  expect_passes(grad_check(loss, {{"table", &table, &dtable}}));
}

TEST(OpsGrad, Linear) {
  std::mt19937_64 rng(2);
  const int64_t n = 5, in = 7, out = 4;
  std::vector<double> x = random_vector(n * in, rng), w = random_vector(out * in, rng), r = random_vector(n * out, rng),
                      y(n * out);
  auto loss = [&] {
    linear_forward(x.data(), w.data(), n, in, out, y.data());
    return project(r, y);
  };
  std::vector<double> dx(x.size(), 0.0), dw(w.size(), 0.0);
  linear_backward(x.data(), w.data(), n, in, out, r.data(), dx.data(), dw.data());
  expect_passes(grad_check(loss, {{"x", &x, &dx}, {"w", &w, &dw}}));
}

TEST(OpsGrad, RmsNormWithAndWithoutWeight) {
  std::mt19937_64 rng(3);
  const int64_t n = 4, d = 9;
  const double eps = 1e-6;
  std::vector<double> x = random_vector(n * d, rng), w = random_vector(d, rng), r = random_vector(n * d, rng), y(n * d);
  for (bool weighted : {true, false}) {
    const double* wp = weighted ? w.data() : nullptr;
    auto loss = [&] {
      rmsnorm_forward(x.data(), wp, n, d, eps, y.data());
      return project(r, y);
    };
    std::vector<double> dx(x.size(), 0.0), dw(w.size(), 0.0);
    rmsnorm_backward(x.data(), wp, n, d, eps, r.data(), dx.data(), weighted ? dw.data() : nullptr);
    std::vector<GradCheckTensor> t = {{"x", &x, &dx}};
    if (weighted) { t.push_back({"w", &w, &dw}); }
    expect_passes(grad_check(loss, t));
  }
}

TEST(OpsGrad, SwigluWithClampAndRoutingWeight) {
  std::mt19937_64 rng(4);
  const int64_t n = 3, I = 16;
  const double limit = 1.5;  // inputs of scale 2: about half the entries sit in a clamp
  std::vector<double> g = random_vector(n * I, rng, 2.0), u = random_vector(n * I, rng, 2.0),
                      rw = random_vector(n, rng), r = random_vector(n * I, rng), a(n * I);
  int clamped_g = 0, clamped_u = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    clamped_g += g[i] >= limit;
    clamped_u += std::fabs(u[i]) >= limit;
  }
  ASSERT_GT(clamped_g, 0);
  ASSERT_GT(clamped_u, 0);
  auto loss = [&] {
    swiglu_forward(g.data(), u.data(), rw.data(), n, I, limit, a.data());
    return project(r, a);
  };
  std::vector<double> dg(g.size(), 0.0), du(u.size(), 0.0), drw(rw.size(), 0.0);
  swiglu_backward(g.data(), u.data(), rw.data(), n, I, limit, r.data(), dg.data(), du.data(), drw.data());
  expect_passes(grad_check(loss, {{"g", &g, &dg}, {"u", &u, &du}, {"route_weight", &rw, &drw}}));
  for (size_t i = 0; i < g.size(); ++i) {
    if (g[i] >= limit) { EXPECT_EQ(dg[i], 0.0); }
    if (std::fabs(u[i]) >= limit) { EXPECT_EQ(du[i], 0.0); }
  }
}

TEST(OpsGrad, CrossEntropyIgnoresNegativeTargets) {
  std::mt19937_64 rng(5);
  const int64_t n = 5, V = 11;
  const int32_t targets[n] = {2, -1, 10, 0, 2};
  std::vector<double> z = random_vector(n * V, rng, 3.0);
  auto loss = [&] { return 0.3 * cross_entropy_forward(z.data(), targets, n, V); };
  std::vector<double> dz(z.size(), 0.0);
  cross_entropy_backward(z.data(), targets, n, V, 0.3, dz.data());
  expect_passes(grad_check(loss, {{"logits", &z, &dz}}, 1000));
  for (int64_t v = 0; v < V; ++v) EXPECT_EQ(dz[size_t(V + v)], 0.0);  // the ignored row
  // Uniform logits: the loss is ln V.
  std::vector<double> flat(size_t(V), 0.0);
  const int32_t one = 4;
  EXPECT_NEAR(cross_entropy_forward(flat.data(), &one, 1, V), std::log(double(V)), 1e-12);
}

TEST(OpsGrad, RopeAndItsInverse) {
  std::mt19937_64 rng(6);
  const std::vector<float> freqs = rope_frequencies({16, 160000, 65536, 16, 32, 1});  // YaRN table
  for (bool inverse : {false, true}) {
    std::vector<double> x = random_vector(16, rng), r = random_vector(16, rng), y(16);
    auto loss = [&] {
      y = x;
      rope_rotate(y.data(), freqs, 37, inverse);
      return project(r, y);
    };
    std::vector<double> dx = r;
    rope_backward(dx.data(), freqs, 37, inverse);
    expect_passes(grad_check(loss, {{"x", &x, &dx}}));
  }
}

}  // namespace
}  // namespace dsv4::train
