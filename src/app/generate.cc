#include "app/generate.h"

#include <algorithm>
#include <chrono>

#include "text/stream_decoder.h"

namespace dsv4 {

const char* finish_reason_name(FinishReason r) { return r == FinishReason::kStop ? "stop" : "length"; }

namespace {

// Length of the longest suffix of `text` that is a proper prefix of some stop string: text that must
// wait, because the next token may complete a stop string.
size_t held_suffix(std::string_view text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const std::string& s : stops)
    for (size_t n = std::min(s.size() - 1, text.size()); n > hold; --n)
      if (text.substr(text.size() - n) == std::string_view(s).substr(0, n)) {
        hold = n;
        break;
      }
  return hold;
}

}  // namespace

Result<Generation> generate(Session& session, const Tokenizer& tokenizer, const GenerateOptions& options,
                            const std::function<void(std::string_view)>& on_text) {
  const auto start = std::chrono::steady_clock::now();
  Generation g;
  // Padded embedding rows past the tokenizer's last id (V4: 129,280 rows, ~128,800 tokens) are never
  // sampled: they have no text.
  const int64_t vocab = std::min<int64_t>(int64_t(session.logits().size()), tokenizer.vocab_size());
  Sampler sampler(options.sampling, vocab);
  sampler.add_prompt(session.tokens());
  StreamDecoder decoder(tokenizer);
  std::string pending;  // decoded but not yet streamed (may start a stop string)
  std::vector<std::string> stops;
  for (const std::string& s : options.stop)
    if (!s.empty()) stops.push_back(s);

  const auto flush = [&](size_t n) {
    if (n == 0) return;
    on_text(std::string_view(pending).substr(0, n));
    g.text.append(pending, 0, n);
    pending.erase(0, n);
  };
  bool stopped = false;
  while (int(g.tokens.size()) < options.max_tokens) {
    const SampledToken t = sampler.sample(session.logits().first(size_t(vocab)));
    if (t.token == options.eos_id) {
      stopped = true;
      break;
    }
    g.tokens.push_back(t.token);
    if (options.sampling.top_logprobs > 0) g.logprobs.push_back(t);
    DSV4_ASSIGN_OR_RETURN(std::string piece, decoder.push(t.token));
    pending += piece;
    size_t cut = std::string::npos;
    for (const std::string& s : stops) cut = std::min(cut, pending.find(s));
    if (cut != std::string::npos) {
      pending.resize(cut);
      flush(pending.size());
      stopped = true;
      break;
    }
    flush(pending.size() - held_suffix(pending, stops));
    if (int64_t(session.tokens().size()) >= session.context()) break;  // context full
    if (int(g.tokens.size()) < options.max_tokens) DSV4_RETURN_IF_ERROR(session.append(t.token));
  }
  if (!stopped) pending += decoder.finish();
  flush(pending.size());
  g.finish = stopped ? FinishReason::kStop : FinishReason::kLength;
  g.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return g;
}

}  // namespace dsv4
