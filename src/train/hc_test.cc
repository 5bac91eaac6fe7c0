// mHC gradient checks in FP64 through all 20 Sinkhorn rounds (training.md §2.8 item 3), plus the forward
// against the inference engine's FP32 hc_pre / hc_post / hc_head (model/hc.cc).
#include "train/hc.h"

#include <gtest/gtest.h>

#include "base/arena.h"
#include "kernels/sinkhorn.h"
#include "train/grad_check.h"

namespace dsv4::train {
namespace {

TEST(HcGrad, SinkhornUnrolledThroughEveryRound) {
  std::mt19937_64 rng(1);
  const int n = 4, iters = 20;
  std::vector<double> a = random_vector(16, rng, 3.0), r = random_vector(16, rng), states;
  auto loss = [&] {
    sinkhorn_forward(a.data(), n, iters, 1e-6, states);
    return project(r, std::vector<double>(states.end() - 16, states.end()));
  };
  loss();
  std::vector<double> da(16, 0.0);
  sinkhorn_backward(states, n, iters, 1e-6, r.data(), da.data());
  expect_passes(grad_check(loss, {{"logits", &a, &da}}));
  // Column sums exact, row sums close (training.md §2.8 item 1), and the same matrix as the engine's kernel.
  sinkhorn_forward(a.data(), n, iters, 1e-6, states);
  const double* c = states.data() + states.size() - 16;
  std::vector<float> af(a.begin(), a.end());
  sinkhorn(af.data(), n, iters, 1e-6f);
  for (int j = 0; j < n; ++j) {
    double row = 0, col = 0;
    for (int k = 0; k < n; ++k) {
      row += c[j * n + k];
      col += c[k * n + j];
      EXPECT_NEAR(c[j * n + k], af[size_t(j * n + k)], 1e-6);
    }
    EXPECT_NEAR(col, 1.0, 1e-5);
    EXPECT_NEAR(row, 1.0, 1e-3);
  }
}

struct HcCase {
  HcDims<double> d;
  int64_t n = 3;
  std::vector<double> x, fn, base, scale, f;
};

HcCase make_case(std::mt19937_64& rng) {
  HcCase c;
  c.d.dim = 6;
  const int M = c.d.mix();
  c.x = random_vector(size_t(c.n * c.d.hc_dim()), rng);
  c.fn = random_vector(size_t(M * c.d.hc_dim()), rng, 0.5);
  c.base = random_vector(size_t(M), rng);
  c.scale = {0.7, -0.4, 1.3};  // large enough that the mixes move pre, post and the Sinkhorn input
  c.f = random_vector(size_t(c.n * c.d.dim), rng);
  return c;
}

// loss = ⟨r1, hc_pre's y⟩ + ⟨r2, hc_post(f, post, comb, x)⟩: every path of one mHC site.
TEST(HcGrad, PreAndPostThroughSinkhorn) {
  std::mt19937_64 rng(2);
  HcCase c = make_case(rng);
  const int64_t n = c.n, D = c.d.dim, hd = c.d.hc_dim();
  const int hc = c.d.hc;
  std::vector<double> r1 = random_vector(size_t(n * D), rng), r2 = random_vector(size_t(n * hd), rng);
  std::vector<double> y(size_t(n * D)), out(size_t(n * hd));
  HcPreSaved<double> s;
  auto loss = [&] {
    hc_pre_forward(c.d, c.fn.data(), c.base.data(), c.scale.data(), c.x.data(), n, y.data(), s);
    hc_post_forward(c.d, c.f.data(), s.post.data(), s.comb.data(), c.x.data(), n, out.data());
    return project(r1, y) + project(r2, out);
  };
  loss();
  std::vector<double> dx(c.x.size(), 0.0), dfn(c.fn.size(), 0.0), dbase(c.base.size(), 0.0), dscale(3, 0.0),
      df(c.f.size(), 0.0), dpost(size_t(n * hc)), dcomb(size_t(n * hc * hc));
  hc_post_backward(c.d, c.f.data(), s.post.data(), s.comb.data(), c.x.data(), n, r2.data(), df.data(), dpost.data(),
                   dcomb.data(), dx.data());
  hc_pre_backward(c.d, c.fn.data(), c.base.data(), c.scale.data(), c.x.data(), n, s, r1.data(), dpost.data(),
                  dcomb.data(), dx.data(), dfn.data(), dbase.data(), dscale.data());
  expect_passes(grad_check(loss, {{"x", &c.x, &dx}, {"fn", &c.fn, &dfn}, {"base", &c.base, &dbase},
                                  {"scale", &c.scale, &dscale}, {"f", &c.f, &df}}, 200));
}

TEST(HcGrad, Head) {
  std::mt19937_64 rng(3);
  HcCase c = make_case(rng);
  const int64_t n = c.n, D = c.d.dim;
  const int hc = c.d.hc;
  std::vector<double> fn = random_vector(size_t(hc * c.d.hc_dim()), rng, 0.5), base = random_vector(size_t(hc), rng),
                      scale = {0.8}, r = random_vector(size_t(n * D), rng), y(size_t(n * D)), mix;
  auto loss = [&] {
    hc_head_forward(c.d, fn.data(), base.data(), scale.data(), c.x.data(), n, y.data(), mix);
    return project(r, y);
  };
  loss();
  std::vector<double> dx(c.x.size(), 0.0), dfn(fn.size(), 0.0), dbase(base.size(), 0.0), dscale(1, 0.0);
  hc_head_backward(c.d, fn.data(), base.data(), scale.data(), c.x.data(), n, mix, r.data(), dx.data(), dfn.data(),
                   dbase.data(), dscale.data());
  expect_passes(grad_check(loss, {{"x", &c.x, &dx}, {"fn", &fn, &dfn}, {"base", &base, &dbase},
                                  {"scale", &scale, &dscale}}, 200));
}

}  // namespace
}  // namespace dsv4::train
