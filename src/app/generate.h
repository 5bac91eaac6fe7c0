// The generation loop shared by `dsv4 run`, `dsv4 chat` and the server: sample a token, stream its text,
// stop at EOS, at a stop string, at max_tokens or when the context is full. Stop strings are matched on
// text: output that could still be the start of a stop string is held back until it cannot.
#pragma once

#include <chrono>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "app/constraint.h"
#include "base/status.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "text/stream_decoder.h"
#include "text/tokenizer.h"

namespace dsv4 {

enum class FinishReason { kStop, kLength };  // kStop: EOS or a stop string; kLength: max_tokens or context
const char* finish_reason_name(FinishReason r);

struct GenerateOptions {
  SamplingParams sampling;
  int max_tokens = 256;
  std::vector<std::string> stop;  // stop strings (not part of the output)
  int32_t eos_id = 1;
  int min_tokens = 0;     // EOS is not sampled before this many tokens (vLLM's min_tokens)
  bool logprobs = false;  // record each token's log-probability even when sampling.top_logprobs is 0
  // Constrained decoding (one per generation: it tracks the position in its grammar); null: free.
  std::shared_ptr<TokenConstraint> constraint;
};

struct Generation {
  std::string text;                      // everything streamed
  std::vector<int32_t> tokens;           // generated ids (EOS excluded)
  std::vector<SampledToken> logprobs;    // per generated token, when sampling.top_logprobs >= 0 asks
  FinishReason finish = FinishReason::kLength;
  double seconds = 0;                    // wall time of the loop
};

// One generation, a token at a time: the server interleaves several of them, one step each per round.
// The session must hold the prompt (Session::sync) when the first step runs and must not be touched by
// anything else until done().
class Generator {
 public:
  Generator(Session& session, const Tokenizer& tokenizer, const GenerateOptions& options);
  // Samples one token, passes the text that became final to `on_text` and feeds the token to the session
  // unless the generation ends with it. Call only while !done().
  Status step(const std::function<void(std::string_view)>& on_text);
  // step() in two halves, for a caller that feeds several sessions in one batched forward step
  // (Session::append_batch): sample() does everything but feeding and returns the tokens the session must
  // take before the next sample() — one, or a jump-forward run; none once done(). feed() feeds them alone.
  Result<std::vector<int32_t>> sample(const std::function<void(std::string_view)>& on_text);
  Status feed(std::span<const int32_t> run);
  bool done() const { return done_; }
  const Generation& result() const { return g_; }

 private:
  void flush(size_t n, const std::function<void(std::string_view)>& on_text);
  void finish(bool stopped, const std::function<void(std::string_view)>& on_text);

  Session& session_;
  const Tokenizer& tokenizer_;
  GenerateOptions options_;
  int64_t vocab_;
  Sampler sampler_;
  StreamDecoder decoder_;
  std::vector<std::string> stops_;  // the non-empty stop strings
  std::string pending_;             // decoded but not yet streamed (may start a stop string)
  std::chrono::steady_clock::time_point start_;
  Generation g_;
  bool done_ = false;
};

// The whole loop. `on_text` receives the output as it becomes final.
Result<Generation> generate(Session& session, const Tokenizer& tokenizer, const GenerateOptions& options,
                            const std::function<void(std::string_view)>& on_text);

}  // namespace dsv4
