// FP64 finite-difference checks of the MoE: sqrt-softplus gate, routing weights, routed experts with the
// SwiGLU clamp, shared expert; top-k routing (frozen for the check) and hash routing.
#include "train/moe.h"

#include <gtest/gtest.h>

#include "train/grad_check.h"

namespace dsv4::train {
namespace {

void moe_check(bool hash, uint64_t seed) {
  std::mt19937_64 rng(seed);
  MoeDims m;
  m.dim = 6;
  m.n_experts = 5;
  m.top_k = 2;
  m.inter = 7;
  m.route_scale = 1.5;
  m.swiglu_limit = 1.0;  // inputs of O(1): some activations clamp
  m.hash = hash;
  const int64_t n = 8;
  MoeParams<double> p, g;
  p.resize(m);
  g.resize(m);
  randomize(p, rng, 0.6);
  if (!hash)
    for (double& b : p.bias) b = std::normal_distribution<double>(0, 0.3)(rng);
  std::vector<double> x = random_vector(size_t(n * m.dim), rng), r = random_vector(size_t(n * m.dim), rng),
                      out(size_t(n * m.dim));
  const int32_t tokens[n] = {0, 3, 1, 2, 3, 0, 2, 1};
  const int32_t tid2eid[4 * 2] = {0, 3, 4, 1, 2, 0, 1, 4};
  MoeSaved<double> s;
  moe_forward(m, p, x.data(), n, tokens, tid2eid, nullptr, out.data(), s);
  const MoeRouting routing = s.routing;  // frozen: ±h must not flip a top-k choice
  if (hash) {  // token 1 (id 3) routes to row 3 of the table
    for (int j = 0; j < 2; ++j) EXPECT_EQ(routing.ids[size_t(2 + j)], tid2eid[3 * 2 + j]);
  }
  int clamped = 0;
  for (const auto& ge : s.g)
    for (double v : ge) clamped += v >= m.swiglu_limit;
  EXPECT_GT(clamped, 0);
  auto loss = [&] {
    moe_forward(m, p, x.data(), n, tokens, tid2eid, &routing, out.data(), s);
    return project(r, out);
  };
  loss();
  std::vector<double> dx(x.size(), 0.0);
  moe_backward(m, p, x.data(), n, s, r.data(), dx.data(), g);
  std::vector<GradCheckTensor> t = param_tensors(p, g);
  t.push_back({"x", &x, &dx});
  expect_passes(grad_check(loss, t));
}

TEST(MoeGrad, TopKRoutingWithSharedExpert) { moe_check(false, 1); }
TEST(MoeGrad, HashRouting) { moe_check(true, 2); }

TEST(MoeGrad, BiasSelectsButDoesNotWeigh) {
  MoeDims m;
  m.dim = 4;
  m.n_experts = 4;
  m.top_k = 1;
  m.inter = 3;
  MoeParams<double> p;
  p.resize(m);
  std::mt19937_64 rng(3);
  randomize(p, rng, 0.5);
  std::vector<double> x = random_vector(4, rng), out(4);
  MoeSaved<double> s;
  moe_forward(m, p, x.data(), 1, nullptr, nullptr, nullptr, out.data(), s);
  const int32_t first = s.routing.ids[0];
  p.bias[size_t((first + 1) % 4)] = 100.0;  // forces another expert
  moe_forward(m, p, x.data(), 1, nullptr, nullptr, nullptr, out.data(), s);
  EXPECT_EQ(s.routing.ids[0], (first + 1) % 4);
  EXPECT_DOUBLE_EQ(s.weights[0], m.route_scale);  // top-1: s/Σs = 1 whatever the bias
}

}  // namespace
}  // namespace dsv4::train
