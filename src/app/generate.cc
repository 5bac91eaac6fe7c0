#include "app/generate.h"

#include <algorithm>
#include <chrono>
#include <limits>

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

Generator::Generator(Session& session, const Tokenizer& tokenizer, const GenerateOptions& options)
    : session_(session),
      tokenizer_(tokenizer),
      options_(options),
      // Padded embedding rows past the tokenizer's last id (V4: 129,280 rows, ~128,800 tokens) are never
      // sampled: they have no text.
      vocab_(std::min<int64_t>(int64_t(session.logits().size()), tokenizer.vocab_size())),
      sampler_(options.sampling, vocab_),
      decoder_(tokenizer),
      start_(std::chrono::steady_clock::now()) {
  sampler_.add_prompt(session.tokens());
  for (const std::string& s : options.stop)
    if (!s.empty()) stops_.push_back(s);
  if (options_.max_tokens <= 0) finish(false, [](std::string_view) {});
}

void Generator::flush(size_t n, const std::function<void(std::string_view)>& on_text) {
  if (n == 0) return;
  on_text(std::string_view(pending_).substr(0, n));
  g_.text.append(pending_, 0, n);
  pending_.erase(0, n);
}

void Generator::finish(bool stopped, const std::function<void(std::string_view)>& on_text) {
  if (!stopped) pending_ += decoder_.finish();
  flush(pending_.size(), on_text);
  g_.finish = stopped ? FinishReason::kStop : FinishReason::kLength;
  g_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  done_ = true;
}

Result<std::vector<int32_t>> Generator::sample(const std::function<void(std::string_view)>& on_text) {
  if (done_) return Status::error("the generation has ended");
  const std::span<float> logits = session_.logits().first(size_t(vocab_));
  if (options_.constraint) options_.constraint->mask(logits);
  if (int(g_.tokens.size()) < options_.min_tokens && options_.eos_id >= 0 && options_.eos_id < vocab_ &&
      !(options_.constraint && options_.constraint->complete()))
    logits[size_t(options_.eos_id)] = -std::numeric_limits<float>::infinity();
  const SampledToken t = sampler_.sample(logits);
  if (options_.constraint && !options_.constraint->accept(t.token))
    return Status::error("constrained decoding: the sampler picked a masked token ({})", t.token);
  if (t.token == options_.eos_id) {
    finish(true, on_text);
    return std::vector<int32_t>{};
  }
  // Jump-forward: text the grammar fixes from here on (a literal's rest, e.g. DSML tags) is appended as
  // its own tokens in one forward call instead of one sampling step each. Not when log-probabilities are
  // asked for: forced tokens have no distribution of their own.
  std::vector<int32_t> run = {t.token};
  const bool record = options_.logprobs || options_.sampling.top_logprobs > 0;
  if (options_.constraint && !record) {
    const std::string forced = options_.constraint->forced_text();
    if (!forced.empty())
      if (Result<std::vector<int32_t>> ids = tokenizer_.encode(forced); ids)
        for (int32_t id : ids.value()) {
          if (id == options_.eos_id || id >= vocab_ || !options_.constraint->accept(id)) break;
          run.push_back(id);
        }
  }
  const int64_t cached = int64_t(session_.tokens().size());
  for (size_t i = 0; i < run.size(); ++i) {
    g_.tokens.push_back(run[i]);
    if (record) g_.logprobs.push_back(t);
    Result<std::string> piece = decoder_.push(run[i]);
    if (!piece) return piece.status();
    pending_ += piece.value();
    size_t cut = std::string::npos;
    for (const std::string& s : stops_) cut = std::min(cut, pending_.find(s));
    if (cut != std::string::npos) {
      pending_.resize(cut);
      finish(true, on_text);
      return std::vector<int32_t>{};
    }
    flush(pending_.size() - held_suffix(pending_, stops_), on_text);
    if (int(g_.tokens.size()) >= options_.max_tokens || cached + int64_t(i) >= session_.context()) {
      finish(false, on_text);  // max_tokens or a full context
      return std::vector<int32_t>{};
    }
  }
  return run;
}

Status Generator::feed(std::span<const int32_t> run) {
  if (run.size() == 1) return session_.append(run[0]);
  std::vector<int32_t> all = session_.tokens();
  all.insert(all.end(), run.begin(), run.end());
  return session_.sync(all);
}

Status Generator::step(const std::function<void(std::string_view)>& on_text) {
  DSV4_ASSIGN_OR_RETURN(const std::vector<int32_t> run, sample(on_text));
  return run.empty() ? Status::ok() : feed(run);
}

Result<Generation> generate(Session& session, const Tokenizer& tokenizer, const GenerateOptions& options,
                            const std::function<void(std::string_view)>& on_text) {
  Generator gen(session, tokenizer, options);
  while (!gen.done()) DSV4_RETURN_IF_ERROR(gen.step(on_text));
  return gen.result();
}

}  // namespace dsv4
