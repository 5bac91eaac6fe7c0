#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

namespace dsv4 {
namespace {

std::vector<float> logits_of(std::vector<double> probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(p > 0 ? float(std::log(p)) : -INFINITY);
  return l;
}

std::map<int32_t, int> histogram(SamplingParams p, const std::vector<float>& logits, int draws) {
  Sampler s(p, int64_t(logits.size()));
  std::map<int32_t, int> h;
  for (int i = 0; i < draws; ++i) {
    std::vector<float> l = logits;
    ++h[s.sample(l).token];
  }
  return h;
}

TEST(Sampler, GreedyTakesTheArgmaxAndLowestIndexOnTies) {
  SamplingParams p;
  p.temperature = 0;
  Sampler s(p, 4);
  std::vector<float> l = {1, 5, 5, 2};
  EXPECT_EQ(s.sample(l).token, 1);
}

TEST(Sampler, SameSeedSameDraws) {
  SamplingParams p;
  p.seed = 1234;
  const std::vector<float> l = logits_of({0.1, 0.2, 0.3, 0.4});
  std::vector<int32_t> a, b;
  for (auto* out : {&a, &b}) {
    Sampler s(p, 4);
    for (int i = 0; i < 50; ++i) {
      std::vector<float> x = l;
      out->push_back(s.sample(x).token);
    }
  }
  EXPECT_EQ(a, b);
  p.seed = 99;
  Sampler s(p, 4);
  std::vector<int32_t> c;
  for (int i = 0; i < 50; ++i) {
    std::vector<float> x = l;
    c.push_back(s.sample(x).token);
  }
  EXPECT_NE(a, c);
}

TEST(Sampler, FrequenciesFollowTheDistribution) {
  SamplingParams p;
  p.seed = 7;
  const auto h = histogram(p, logits_of({0.1, 0.2, 0.3, 0.4}), 20000);
  EXPECT_NEAR(h.at(0) / 20000.0, 0.1, 0.015);
  EXPECT_NEAR(h.at(3) / 20000.0, 0.4, 0.015);
}

TEST(Sampler, TopKTopPAndMinPCutTheTail) {
  const std::vector<float> l = logits_of({0.05, 0.15, 0.3, 0.5});
  SamplingParams p;
  p.seed = 1;
  p.top_k = 2;
  auto h = histogram(p, l, 2000);
  EXPECT_EQ(h.count(0) + h.count(1), 0u);
  p.top_k = 0;
  p.top_p = 0.75f;  // 0.5 + 0.3 reaches it
  h = histogram(p, l, 2000);
  EXPECT_EQ(h.count(0) + h.count(1), 0u);
  EXPECT_GT(h.at(2), 0);
  p.top_p = 1.0f;
  p.min_p = 0.5f;  // keeps p >= 0.25
  h = histogram(p, l, 2000);
  EXPECT_EQ(h.count(0) + h.count(1), 0u);
  p.min_p = 0.0f;
  p.temperature = 0.05f;  // low temperature concentrates on the best token
  h = histogram(p, l, 500);
  EXPECT_EQ(h.at(3), 500);
}

TEST(Sampler, PenaltiesDiscourageRepeats) {
  SamplingParams p;
  p.temperature = 0;
  p.presence_penalty = 2.0f;
  Sampler s(p, 3);
  std::vector<float> l = {1.0f, 0.0f, 0.5f};
  EXPECT_EQ(s.sample(l).token, 0);
  l = {1.0f, 0.0f, 0.5f};
  EXPECT_EQ(s.sample(l).token, 2);  // token 0 now scores 1 - 2 = -1
  SamplingParams r;
  r.temperature = 0;
  r.repetition_penalty = 4.0f;
  Sampler t(r, 2);
  const int32_t prompt[] = {0};
  t.add_prompt(prompt);
  std::vector<float> m = {2.0f, 1.0f};  // 2 / 4 = 0.5 < 1
  EXPECT_EQ(t.sample(m).token, 1);
}

TEST(Sampler, LogprobsAreTheModelsDistribution) {
  SamplingParams p;
  p.temperature = 0;
  p.top_logprobs = 2;
  p.frequency_penalty = 10;  // changes the choice, not the reported distribution
  Sampler s(p, 3);
  std::vector<float> l = logits_of({0.2, 0.5, 0.3});
  const SampledToken t = s.sample(l);
  EXPECT_EQ(t.token, 1);
  EXPECT_NEAR(t.logprob, std::log(0.5), 1e-6);
  ASSERT_EQ(t.top.size(), 2u);
  EXPECT_EQ(t.top[0].token, 1);
  EXPECT_EQ(t.top[1].token, 2);
  EXPECT_NEAR(t.top[1].logprob, std::log(0.3), 1e-6);
}

}  // namespace
}  // namespace dsv4
