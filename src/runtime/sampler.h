// Sampler: picks the next token from a row of logits. The order is the common one (vLLM, llama.cpp):
//   penalties → (temperature 0: argmax) → ÷ temperature → top-k → softmax → top-p → min-p → draw.
// Repetition penalty looks at prompt and output tokens; presence and frequency penalties at output
// tokens only (OpenAI semantics). Reported log-probabilities are those of the model's own distribution
// (log-softmax of the raw logits), not of the filtered one. The same seed gives the same draws.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

namespace dsv4 {

struct SamplingParams {
  float temperature = 1.0f;        // 0 = greedy
  int top_k = 0;                   // 0 = off
  float top_p = 1.0f;              // 1 = off
  float min_p = 0.0f;              // 0 = off; keeps tokens with p >= min_p · p_max
  float repetition_penalty = 1.0f;  // 1 = off; > 1 discourages seen tokens
  float presence_penalty = 0.0f;   // subtracted once from every output token's logit
  float frequency_penalty = 0.0f;  // subtracted per occurrence in the output
  uint64_t seed = 0;
  int top_logprobs = 0;            // alternatives to report per token (0 = only the chosen one)
};

struct TokenLogprob {
  int32_t token;
  float logprob;
};

struct SampledToken {
  int32_t token;
  float logprob;                     // of the chosen token under the model's distribution
  std::vector<TokenLogprob> top;     // top_logprobs alternatives, best first
};

class Sampler {
 public:
  Sampler(const SamplingParams& p, int64_t vocab_size);

  // Tokens the repetition penalty should see before any output (the prompt).
  void add_prompt(std::span<const int32_t> tokens);
  // `logits` [vocab_size] is used as scratch and modified.
  SampledToken sample(std::span<float> logits);
  // Records an output token (sample() does this for its own picks; call it for forced tokens).
  void accept(int32_t token);

 private:
  void apply_penalties(std::span<float> logits) const;
  int32_t draw(std::span<const float> logits);
  double uniform();  // [0, 1), from the seeded generator's bits (portable, unlike std distributions)

  SamplingParams p_;
  int64_t vocab_;
  std::mt19937_64 rng_;
  std::unordered_map<int32_t, int> output_counts_;
  std::unordered_map<int32_t, int> seen_;  // prompt + output, for the repetition penalty
  std::vector<int32_t> candidates_;        // scratch
  std::vector<float> probs_;               // scratch
  std::vector<float> raw_;                 // scratch: logits before penalties
};

}  // namespace dsv4
