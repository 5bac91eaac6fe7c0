// The generation loop shared by `dsv4 run`, `dsv4 chat` and the server: sample a token, stream its text,
// stop at EOS, at a stop string, at max_tokens or when the context is full. Stop strings are matched on
// text: output that could still be the start of a stop string is held back until it cannot.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "text/tokenizer.h"

namespace dsv4 {

enum class FinishReason { kStop, kLength };  // kStop: EOS or a stop string; kLength: max_tokens or context
const char* finish_reason_name(FinishReason r);

struct GenerateOptions {
  SamplingParams sampling;
  int max_tokens = 256;
  std::vector<std::string> stop;  // stop strings (not part of the output)
  int32_t eos_id = 1;
};

struct Generation {
  std::string text;                      // everything streamed
  std::vector<int32_t> tokens;           // generated ids (EOS excluded)
  std::vector<SampledToken> logprobs;    // per generated token, when sampling.top_logprobs >= 0 asks
  FinishReason finish = FinishReason::kLength;
  double seconds = 0;                    // wall time of the loop
};

// The session must hold the prompt (Session::sync). `on_text` receives the output as it becomes final.
Result<Generation> generate(Session& session, const Tokenizer& tokenizer, const GenerateOptions& options,
                            const std::function<void(std::string_view)>& on_text);

}  // namespace dsv4
