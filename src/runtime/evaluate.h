// Evaluation: the model's cross-entropy on a token sequence. The sequence is cut into windows of at most
// `window` tokens, each run from an empty cache; consecutive windows share one token (the last of one is
// the first of the next), so every token after the first is predicted exactly once, from the tokens
// before it in its window.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "base/status.h"
#include "model/model.h"

namespace dsv4 {

struct EvalTotals {
  int64_t predicted = 0;  // tokens scored
  double nats = 0;        // sum of −ln p(token | its context)
  double nats_per_token() const { return predicted ? nats / double(predicted) : 0; }
};

struct EvalOptions {
  int64_t window = 512;  // most tokens per window (the context each prediction can see, at most)
  int64_t chunk = 128;   // tokens per forward call
  std::function<void(int64_t done, int64_t total)> progress;  // after each forward call; optional
};

// Fails on ids outside the model's vocabulary and on a window the model's context cannot hold.
Result<EvalTotals> evaluate_tokens(Model& model, std::span<const int32_t> tokens, const EvalOptions& options);

}  // namespace dsv4
