// MoE balancing: the aux-loss-free bias rule (signs, and that it evens out a skewed router), the
// sequence-wise balance loss (a hand-computed value, and an FP64 gradient check through the gate).
#include "train/balance.h"

#include <gtest/gtest.h>

#include "train/grad_check.h"

namespace dsv4::train {
namespace {

TEST(Balance, BiasMovesAgainstTheLoad) {
  std::vector<float> bias = {0.0f, 0.0f, 0.0f, 0.0f};
  aux_free_bias_update(bias.data(), {5, 1, 3, 3}, 0.001f);  // mean 3
  EXPECT_FLOAT_EQ(bias[0], -0.001f);
  EXPECT_FLOAT_EQ(bias[1], 0.001f);
  EXPECT_FLOAT_EQ(bias[2], 0.0f);
  EXPECT_FLOAT_EQ(bias[3], 0.0f);
  EXPECT_NEAR(max_violation({5, 1, 3, 3}), 5.0 / 3.0 - 1.0, 1e-12);
  EXPECT_EQ(max_violation({2, 2, 2}), 0.0);
}

TEST(Balance, BiasUpdatesEvenOutASkewedRouter) {
  std::mt19937_64 rng(1);
  const int E = 8, K = 2;
  const int64_t n = 512;
  std::vector<double> scores(size_t(n * E));
  std::normal_distribution<double> nd;
  for (int64_t t = 0; t < n; ++t)
    for (int e = 0; e < E; ++e)  // experts 0 and 1 are favoured by every token
      scores[size_t(t * E + e)] = std::sqrt(softplus(nd(rng) + (e == 0 ? 2.0 : e == 1 ? 1.0 : 0.0)));
  std::vector<double> bias(size_t(E), 0.0), biased(static_cast<size_t>(E));
  auto route = [&] {
    std::vector<int32_t> ids(size_t(n * K));
    for (int64_t t = 0; t < n; ++t) {
      for (int e = 0; e < E; ++e) biased[size_t(e)] = scores[size_t(t * E + e)] + bias[size_t(e)];
      select_topk(biased.data(), E, K, ids.data() + t * K);
    }
    return expert_load(ids, E);
  };
  const double before = max_violation(route());
  for (int step = 0; step < 300; ++step) aux_free_bias_update(bias.data(), route(), 0.01);
  const double after = max_violation(route());
  std::printf("  MaxVio %.3f -> %.3f\n", before, after);
  EXPECT_GT(before, 1.0);
  EXPECT_LT(after, 0.25);
}

TEST(Balance, SequenceLossValue) {
  // E = 2, K = 1, T = 2: both tokens pick expert 0, so f = (2, 0); P_0 = (2/3 + 2/3)/2.
  const double scores[4] = {2.0, 1.0, 1.0, 0.5};
  const double alpha = 1e-4;
  EXPECT_NEAR(balance_loss_forward(scores, 2, 2, 1, alpha), alpha * 2.0 * (2.0 / 3.0), 1e-15);
}

TEST(Balance, SequenceLossGradientThroughTheGate) {
  std::mt19937_64 rng(2);
  MoeDims m;
  m.dim = 6;
  m.n_experts = 5;
  m.top_k = 2;
  m.inter = 4;
  m.route_scale = 1.5;
  const int64_t n = 9;
  MoeParams<double> p, g;
  p.resize(m);
  g.resize(m);
  randomize(p, rng, 0.6);
  std::vector<double> x = random_vector(size_t(n * m.dim), rng), r = random_vector(size_t(n * m.dim), rng),
                      out(size_t(n * m.dim));
  const double alpha = 0.5;  // large, so the balance term is not drowned by the projection
  MoeSaved<double> s;
  moe_forward(m, p, x.data(), n, nullptr, nullptr, nullptr, out.data(), s);
  const MoeRouting routing = s.routing;
  auto loss = [&] {
    moe_forward(m, p, x.data(), n, nullptr, nullptr, &routing, out.data(), s);
    return project(r, out) + balance_loss_forward(s.scores.data(), n, m.n_experts, m.top_k, alpha);
  };
  loss();
  std::vector<double> dscores(size_t(n * m.n_experts), 0.0), dx(x.size(), 0.0);
  balance_loss_backward(s.scores.data(), n, m.n_experts, m.top_k, alpha, dscores.data());
  moe_backward(m, p, x.data(), n, s, r.data(), dx.data(), g, dscores.data());
  std::vector<GradCheckTensor> t = param_tensors(p, g);
  t.push_back({"x", &x, &dx});
  expect_passes(grad_check(loss, t));
  // The balance term alone reaches the gate: without it the gate's gradient differs.
  MoeParams<double> g2;
  g2.resize(m);
  std::vector<double> dx2(x.size(), 0.0);
  moe_backward(m, p, x.data(), n, s, r.data(), dx2.data(), g2);
  double diff = 0;
  for (size_t i = 0; i < g.gate.size(); ++i) diff = std::max(diff, std::fabs(g.gate[i] - g2.gate[i]));
  EXPECT_GT(diff, 1e-6);
}

}  // namespace
}  // namespace dsv4::train
