// Session: prefix reuse and reuse points give the same logits as computing from scratch.
#include "runtime/session.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace dsv4 {
namespace {

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = Model::load(testing::golden_case("tiny-fp8"));
    ASSERT_TRUE(m) << m.status().message();
    model_ = std::move(m).value();
  }
  std::vector<float> fresh_logits(const std::vector<int32_t>& tokens) {
    Session s(*model_, 64, 5);
    EXPECT_TRUE(s.sync(tokens).is_ok());
    return {s.logits().begin(), s.logits().end()};
  }
  static std::vector<int32_t> cat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
  std::unique_ptr<Model> model_;
};

TEST_F(SessionTest, ExtendingReusesTheCachedPrefix) {
  const std::vector<int32_t> a = {0, 17, 250, 3, 3, 9, 100, 41, 7, 8, 2}, b = {55, 66, 77, 88, 99, 11};
  Session s(*model_, 64, 4);
  ASSERT_TRUE(s.sync(a).is_ok());
  ASSERT_TRUE(s.sync(cat(a, b)).is_ok());
  EXPECT_EQ(s.reused_tokens(), int64_t(a.size()));
  EXPECT_EQ(std::vector<float>(s.logits().begin(), s.logits().end()), fresh_logits(cat(a, b)));
  ASSERT_TRUE(s.append(5).is_ok());
  EXPECT_EQ(std::vector<float>(s.logits().begin(), s.logits().end()), fresh_logits(cat(cat(a, b), {5})));
}

TEST_F(SessionTest, ReusePointRestoresAfterDivergence) {
  const std::vector<int32_t> a = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, b = {20, 21, 22, 23, 24, 25, 26},
                             d = {30, 31, 32};
  Session s(*model_, 64, 3);
  ASSERT_TRUE(s.sync(a).is_ok());
  s.mark_reuse_point();
  ASSERT_TRUE(s.sync(cat(a, b)).is_ok());  // overwrites ring slots and compressor state
  ASSERT_TRUE(s.sync(cat(a, d)).is_ok());
  EXPECT_EQ(s.reused_tokens(), int64_t(a.size()));
  EXPECT_EQ(std::vector<float>(s.logits().begin(), s.logits().end()), fresh_logits(cat(a, d)));
  ASSERT_TRUE(s.sync(a).is_ok());  // back to the reuse point exactly
  EXPECT_EQ(std::vector<float>(s.logits().begin(), s.logits().end()), fresh_logits(a));
  ASSERT_TRUE(s.sync(std::vector<int32_t>{0, 9, 9}).is_ok());  // unrelated: computed from scratch
  EXPECT_EQ(s.reused_tokens(), 0);
}

TEST_F(SessionTest, RejectsBadPrompts) {
  Session s(*model_, 8);
  EXPECT_NE(s.sync(std::vector<int32_t>{}).message().find("empty prompt"), std::string::npos);
  EXPECT_NE(s.sync(std::vector<int32_t>(9, 1)).message().find("exceeds the context of 8 tokens"), std::string::npos);
  EXPECT_NE(s.sync(std::vector<int32_t>{0, 512}).message().find("outside the vocabulary"), std::string::npos);
  ASSERT_TRUE(s.sync(std::vector<int32_t>(8, 1)).is_ok());
  EXPECT_NE(s.append(1).message().find("full"), std::string::npos);
}

}  // namespace
}  // namespace dsv4
