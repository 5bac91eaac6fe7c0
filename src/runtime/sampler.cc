#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "base/check.h"

namespace dsv4 {

Sampler::Sampler(const SamplingParams& p, int64_t vocab_size) : p_(p), vocab_(vocab_size), rng_(p.seed) {}

void Sampler::add_prompt(std::span<const int32_t> tokens) {
  for (int32_t t : tokens) ++seen_[t];
}

void Sampler::accept(int32_t token) {
  ++output_counts_[token];
  ++seen_[token];
}

double Sampler::uniform() { return double(rng_() >> 11) * 0x1p-53; }

void Sampler::apply_penalties(std::span<float> logits) const {
  if (p_.repetition_penalty != 1.0f)
    for (const auto& [t, n] : seen_) {
      float& l = logits[size_t(t)];
      l = l > 0 ? l / p_.repetition_penalty : l * p_.repetition_penalty;
    }
  if (p_.presence_penalty != 0.0f || p_.frequency_penalty != 0.0f)
    for (const auto& [t, n] : output_counts_)
      logits[size_t(t)] -= p_.presence_penalty + p_.frequency_penalty * float(n);
}

namespace {
// log-softmax normaliser: max + log Σ exp(l − max).
double log_sum_exp(std::span<const float> l) {
  const float mx = *std::max_element(l.begin(), l.end());
  double s = 0;
  for (float v : l) s += std::exp(double(v) - mx);
  return mx + std::log(s);
}
}  // namespace

SampledToken Sampler::sample(std::span<float> logits) {
  DSV4_CHECK(int64_t(logits.size()) == vocab_);
  for (float& v : logits)
    if (std::isnan(v)) v = -INFINITY;
  SampledToken out{};
  const double lse = log_sum_exp(logits);  // the model's own distribution, before penalties
  std::vector<TokenLogprob> top;
  if (p_.top_logprobs > 0) {
    const int k = int(std::min<int64_t>(p_.top_logprobs, vocab_));
    candidates_.resize(size_t(vocab_));
    std::iota(candidates_.begin(), candidates_.end(), 0);
    std::partial_sort(candidates_.begin(), candidates_.begin() + k, candidates_.end(), [&](int32_t a, int32_t b) {
      return logits[size_t(a)] != logits[size_t(b)] ? logits[size_t(a)] > logits[size_t(b)] : a < b;
    });
    for (int i = 0; i < k; ++i)
      top.push_back({candidates_[size_t(i)], float(logits[size_t(candidates_[size_t(i)])] - lse)});
  }
  raw_.assign(logits.begin(), logits.end());
  apply_penalties(logits);
  out.token = draw(logits);
  out.logprob = float(raw_[size_t(out.token)] - lse);
  out.top = std::move(top);
  accept(out.token);
  return out;
}

int32_t Sampler::draw(std::span<const float> logits) {
  const auto better = [&](int32_t a, int32_t b) {
    return logits[size_t(a)] != logits[size_t(b)] ? logits[size_t(a)] > logits[size_t(b)] : a < b;
  };
  if (p_.temperature <= 0.0f) {
    int32_t best = 0;
    for (int32_t i = 1; i < int32_t(vocab_); ++i)
      if (better(i, best)) best = i;
    return best;
  }
  // Candidates sorted best first; top-k bounds the sort.
  const int64_t k = p_.top_k > 0 ? std::min<int64_t>(p_.top_k, vocab_) : vocab_;
  candidates_.resize(size_t(vocab_));
  std::iota(candidates_.begin(), candidates_.end(), 0);
  std::partial_sort(candidates_.begin(), candidates_.begin() + k, candidates_.end(), better);
  candidates_.resize(size_t(k));

  if (logits[size_t(candidates_[0])] == -INFINITY) return candidates_[0];  // nothing is possible: stay defined
  probs_.resize(size_t(k));
  const float mx = logits[size_t(candidates_[0])] / p_.temperature;
  double total = 0;
  for (int64_t i = 0; i < k; ++i) {
    probs_[size_t(i)] = std::exp(logits[size_t(candidates_[size_t(i)])] / p_.temperature - mx);
    total += probs_[size_t(i)];
  }
  int64_t keep = k;
  if (p_.top_p < 1.0f) {  // smallest prefix whose mass reaches top_p
    double mass = 0;
    for (int64_t i = 0; i < k; ++i) {
      mass += probs_[size_t(i)] / total;
      if (mass >= p_.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  if (p_.min_p > 0.0f) {  // probs_[0] is the largest
    int64_t i = 1;
    while (i < keep && probs_[size_t(i)] >= p_.min_p * probs_[0]) ++i;
    keep = i;
  }
  double kept = 0;
  for (int64_t i = 0; i < keep; ++i) kept += probs_[size_t(i)];
  double r = uniform() * kept;
  for (int64_t i = 0; i < keep; ++i) {
    r -= probs_[size_t(i)];
    if (r < 0) return candidates_[size_t(i)];
  }
  return candidates_[size_t(keep - 1)];
}

}  // namespace dsv4
