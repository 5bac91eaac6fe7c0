#include "runtime/evaluate.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace dsv4 {

namespace {

// −ln softmax(logits)[target], in double.
double token_nats(std::span<const float> logits, int32_t target) {
  const float peak = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float v : logits) sum += std::exp(double(v) - double(peak));
  return std::log(sum) - (double(logits[size_t(target)]) - double(peak));
}

}  // namespace

Result<EvalTotals> evaluate_tokens(Model& model, std::span<const int32_t> tokens, const EvalOptions& o) {
  const ModelConfig& c = model.config();
  if (o.window < 2) return Status::error("an evaluation window must hold at least 2 tokens, not {}", o.window);
  if (o.chunk < 1) return Status::error("the forward chunk must hold at least 1 token");
  if (o.window > c.max_position_embeddings)
    return Status::error("a window of {} tokens exceeds the model's context of {}", o.window, c.max_position_embeddings);
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= c.vocab_size)
      return Status::error("token {} (id {}) is outside the model's vocabulary of {}", i, tokens[i], c.vocab_size);

  EvalTotals totals;
  const int64_t n = int64_t(tokens.size()), vocab = c.vocab_size;
  KvCache cache = model.new_cache(std::min(o.window, std::max<int64_t>(n, 1)));
  std::vector<float> logits(size_t(std::min(o.chunk, o.window) * vocab));
  for (int64_t start = 0; start + 1 < n; start += o.window - 1) {
    const int64_t end = std::min(n, start + o.window);
    cache.reset();
    for (int64_t pos = start; pos < end; pos += o.chunk) {
      const int64_t len = std::min(o.chunk, end - pos);
      model.forward(tokens.data() + pos, len, pos - start, cache, logits.data());
      for (int64_t i = 0; i < len && pos + i + 1 < end; ++i) {
        totals.nats += token_nats(std::span<const float>(logits.data() + i * vocab, size_t(vocab)), tokens[size_t(pos + i + 1)]);
        ++totals.predicted;
      }
      if (o.progress) o.progress(pos + len, n);
    }
  }
  return totals;
}

}  // namespace dsv4
