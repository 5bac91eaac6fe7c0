// evaluate_tokens against the definition: −ln softmax of the logits after each prefix of its window.
#include "runtime/evaluate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "runtime/session.h"
#include "test_util.h"

namespace dsv4 {
namespace {

class EvaluateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = Model::load(testing::golden_case("tiny-fp8"));
    ASSERT_TRUE(m) << m.status().message();
    model_ = std::move(m).value();
    std::mt19937 rng(3);
    for (int i = 0; i < 30; ++i) tokens_.push_back(int32_t(rng() % uint32_t(model_->config().vocab_size)));
  }
  std::unique_ptr<Model> model_;
  std::vector<int32_t> tokens_;
};

TEST_F(EvaluateTest, EqualsTheLossOfEveryPrefixInItsWindow) {
  const int64_t window = 12;
  double want = 0;
  int64_t predicted = 0;
  for (size_t start = 0; start + 1 < tokens_.size(); start += window - 1) {
    const size_t end = std::min(tokens_.size(), start + window);
    Session s(*model_, window, 3);
    for (size_t i = start; i + 1 < end; ++i) {
      ASSERT_TRUE(s.sync(std::span<const int32_t>(tokens_.data() + start, i + 1 - start)).is_ok());
      double sum = 0;
      for (float v : s.logits()) sum += std::exp(double(v));
      want += std::log(sum) - double(s.logits()[size_t(tokens_[i + 1])]);
      ++predicted;
    }
  }
  EvalOptions o;
  o.window = window;
  o.chunk = 5;
  int64_t calls = 0;
  o.progress = [&](int64_t done, int64_t total) {
    EXPECT_LE(done, total);
    ++calls;
  };
  auto got = evaluate_tokens(*model_, tokens_, o);
  ASSERT_TRUE(got) << got.status().message();
  EXPECT_EQ(got->predicted, predicted);
  EXPECT_EQ(predicted, int64_t(tokens_.size()) - 1);  // windows [0, 12), [11, 23), [22, 30)
  EXPECT_NEAR(got->nats, want, 1e-4 * std::abs(want));
  EXPECT_GT(calls, 0);
}

TEST_F(EvaluateTest, RejectsBadIdsAndWindows) {
  EvalOptions o;
  o.window = 8;
  std::vector<int32_t> bad = tokens_;
  bad[4] = int32_t(model_->config().vocab_size);
  auto r = evaluate_tokens(*model_, bad, o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("token 4"), std::string::npos);
  o.window = 1;
  EXPECT_FALSE(evaluate_tokens(*model_, tokens_, o));
  o.window = model_->config().max_position_embeddings + 1;
  EXPECT_FALSE(evaluate_tokens(*model_, tokens_, o));
}

}  // namespace
}  // namespace dsv4
