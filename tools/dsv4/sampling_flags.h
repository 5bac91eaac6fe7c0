// Sampling and generation flags shared by `run` and `chat`.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>

#include "app/generate.h"

namespace dsv4 {

struct GenerationFlags {
  GenerateOptions options;
  int64_t ctx = 4096;
  bool seed_given = false;
};

inline void add_generation_flags(CLI::App* app, GenerationFlags& f) {
  SamplingParams& s = f.options.sampling;
  app->add_option("-n,--max-tokens", f.options.max_tokens, "most tokens to generate")->check(CLI::NonNegativeNumber);
  app->add_option("--temp,--temperature", s.temperature, "sampling temperature; 0 = greedy")
      ->check(CLI::Range(0.0, 100.0));
  app->add_option("--top-k", s.top_k, "keep the k most likely tokens (0 = off)")->check(CLI::NonNegativeNumber);
  app->add_option("--top-p", s.top_p, "nucleus sampling mass (1 = off)")->check(CLI::Range(0.0, 1.0));
  app->add_option("--min-p", s.min_p, "drop tokens below min-p × the top probability")->check(CLI::Range(0.0, 1.0));
  app->add_option("--repeat-penalty", s.repetition_penalty, "repetition penalty (1 = off)")
      ->check(CLI::Range(0.01, 100.0));
  app->add_option("--presence-penalty", s.presence_penalty, "OpenAI presence penalty")->check(CLI::Range(-2.0, 2.0));
  app->add_option("--frequency-penalty", s.frequency_penalty, "OpenAI frequency penalty")
      ->check(CLI::Range(-2.0, 2.0));
  app->add_option("--seed", s.seed, "random seed (default: from the clock, printed)")
      ->each([&f](const std::string&) { f.seed_given = true; });
  app->add_option("--stop", f.options.stop, "stop string (repeatable)");
  app->add_option("--logprobs", s.top_logprobs, "report the top N log-probabilities per token on stderr")
      ->check(CLI::Range(0, 20));
  app->add_option("-c,--ctx", f.ctx, "context length in tokens")->check(CLI::PositiveNumber);
}

inline void pick_seed(GenerationFlags& f) {
  if (!f.seed_given) f.options.sampling.seed = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace dsv4
