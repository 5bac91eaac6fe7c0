// The trainer's schedule, its option checks, and its state round trip on configs/tiny-train.json.
#include "train/trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numeric>

#include <unistd.h>

namespace dsv4::train {
namespace {

TEST(Trainer, WarmupThenCosineToTheFloor) {
  TrainerOptions o;
  o.steps = 100;
  o.lr = 1e-3;
  o.warmup = 10;
  o.min_lr_ratio = 0.1;
  EXPECT_DOUBLE_EQ(learning_rate(o, 0), 1e-4);
  EXPECT_DOUBLE_EQ(learning_rate(o, 4), 5e-4);
  EXPECT_DOUBLE_EQ(learning_rate(o, 10), 1e-3);                   // the peak, cosine starts
  EXPECT_NEAR(learning_rate(o, 55), 1e-3 * (0.1 + 0.9 * 0.5), 1e-15);  // halfway
  EXPECT_NEAR(learning_rate(o, 100), 1e-4, 1e-15);
  for (int64_t s = 11; s < 100; ++s) EXPECT_LT(learning_rate(o, s), learning_rate(o, s - 1)) << s;
  o.warmup = -1;  // default: min(100, steps / 10)
  EXPECT_DOUBLE_EQ(learning_rate(o, 9), 1e-3);
}

ModelConfig tiny_config() {
  Result<ModelConfig> c = load_model_config(std::string(DSV4_SOURCE_DIR) + "/configs/tiny-train.json");
  EXPECT_TRUE(c.is_ok()) << c.status().message();
  return c.value();
}

TEST(Trainer, RejectsOptionsItCannotHonour) {
  const ModelConfig c = tiny_config();
  TrainerOptions o;
  o.seq = 4 * c.index_topk;  // seq + 1 tokens: one compressed entry more than the indexer picks
  EXPECT_FALSE(Trainer::create(c, o).is_ok());
  o.seq = 32;
  o.warmup = o.steps;
  EXPECT_FALSE(Trainer::create(c, o).is_ok());
  o.warmup = -1;
  ModelConfig fp8 = c;
  fp8.fp8 = true;
  EXPECT_FALSE(Trainer::create(fp8, o).is_ok());
  EXPECT_TRUE(Trainer::create(c, o).is_ok());
}

TEST(Trainer, StateRoundTripContinuesIdentically) {
  const ModelConfig c = tiny_config();
  TrainerOptions o;
  o.steps = 4;
  o.batch = 1;
  o.seq = 16;
  std::vector<int32_t> tokens(200);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = int32_t((i * 7 + i / 3) % 50);
  auto a = Trainer::create(c, o), b = Trainer::create(c, o);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  a.value()->step(tokens);
  const std::string path =
      (std::filesystem::temp_directory_path() / ("dsv4_trainer_state_" + std::to_string(::getpid()))).string();
  ASSERT_TRUE(a.value()->save_state(path).is_ok());
  ASSERT_TRUE(b.value()->load_state(path).is_ok());
  EXPECT_EQ(b.value()->steps_done(), 1);
  for (int k = 0; k < 2; ++k) {
    const StepStats x = a.value()->step(tokens), y = b.value()->step(tokens);
    EXPECT_EQ(x.loss, y.loss);
    EXPECT_EQ(x.grad_norm, y.grad_norm);
  }
  const ValStats va = a.value()->validate(tokens, 0), vb = b.value()->validate(tokens, 0);
  EXPECT_EQ(va.tokens, 199);
  EXPECT_EQ(va.nats, vb.nats);
  TrainerOptions other = o;
  other.lr *= 2;
  auto d = Trainer::create(c, other);
  ASSERT_TRUE(d.is_ok());
  EXPECT_FALSE(d.value()->load_state(path).is_ok());  // another run's state
  std::filesystem::remove(path);
}

// Threads share out the windows and add their gradient sums in order: the same step up to float rounding,
// the same validation exactly (per-window sums, added in window order).
TEST(Trainer, ThreadsShareTheWindowsOfAStep) {
  const ModelConfig c = tiny_config();
  TrainerOptions o;
  o.steps = 4;
  o.batch = 3;  // not a multiple of the threads
  o.seq = 16;
  std::vector<int32_t> tokens(300);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = int32_t((i * 5 + i / 7) % 60);
  TrainerOptions two = o;
  two.threads = 2;
  auto a = Trainer::create(c, o), b = Trainer::create(c, two);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  for (int k = 0; k < 3; ++k) {
    const StepStats x = a.value()->step(tokens), y = b.value()->step(tokens);
    EXPECT_EQ(x.tokens, y.tokens);
    EXPECT_NEAR(x.loss, y.loss, 1e-5 * x.loss) << k;
    EXPECT_NEAR(x.grad_norm, y.grad_norm, 1e-4 * x.grad_norm) << k;
  }
  const ValStats va = a.value()->validate(tokens, 100), vb = b.value()->validate(tokens, 100);
  EXPECT_EQ(va.tokens, vb.tokens);
  EXPECT_NEAR(va.nats, vb.nats, 1e-4 * va.nats);  // three steps of rounding apart
  auto fresh = Trainer::create(c, two);
  ASSERT_TRUE(fresh.is_ok());
  EXPECT_EQ(fresh.value()->validate(tokens, 0).nats, Trainer::create(c, two).value()->validate(tokens, 0).nats);
  EXPECT_EQ(fresh.value()->validate(tokens, 0).nats, Trainer::create(c, o).value()->validate(tokens, 0).nats);
}

}  // namespace
}  // namespace dsv4::train
