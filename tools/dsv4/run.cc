// dsv4 run: one prompt in, the completion streamed to stdout, speeds on stderr.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "app/model_bundle.h"
#include "commands.h"
#include "text/chat_encoder.h"
#include "text/chat_tokens.h"

namespace dsv4 {

namespace {

Result<std::string> prompt_text(const RunOptions& o) {
  if (!o.chat) return o.prompt;
  ChatMessage user;
  user.role = ChatRole::kUser;
  user.content = o.prompt;
  ChatOptions opts;
  opts.thinking_mode = o.think ? ThinkingMode::kThinking : ThinkingMode::kChat;
  if (!o.effort.empty()) opts.reasoning_effort = o.effort;
  return encode_chat(std::span<const ChatMessage>(&user, 1), opts);
}

Status run(RunOptions o) {
  pick_seed(o.gen);
  DSV4_ASSIGN_OR_RETURN(ModelBundle b, load_model_bundle(o.model));
  DSV4_ASSIGN_OR_RETURN(std::string text, prompt_text(o));
  // The chat encoder writes BOS itself; a raw prompt gets it as tokenizer_config.json asks.
  DSV4_ASSIGN_OR_RETURN(std::vector<int32_t> ids,
                        o.chat ? b.tokenizer.encode(text) : b.tokenizer.encode_with_bos(text));
  Session session(*b.model, o.gen.ctx);
  const auto t0 = std::chrono::steady_clock::now();
  DSV4_RETURN_IF_ERROR(session.sync(ids));
  const double prefill_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  o.gen.options.eos_id = b.eos_id;
  DSV4_ASSIGN_OR_RETURN(Generation g, generate(session, b.tokenizer, o.gen.options, [](std::string_view piece) {
                          std::fwrite(piece.data(), 1, piece.size(), stdout);
                          std::fflush(stdout);
                        }));
  std::fputc('\n', stdout);
  std::fflush(stdout);
  for (const SampledToken& t : g.logprobs) {
    // Pieces are raw token bytes (possibly part of a character), printed escaped.
    const auto piece = [&](int32_t id) { auto p = b.tokenizer.piece(id); return std::string(p ? p.value() : "?"); };
    std::string line = fmt::format("logprob {:>6} {:?} {:.4f} |", t.token, piece(t.token), t.logprob);
    for (const TokenLogprob& alt : t.top) line += fmt::format(" {}:{:?} {:.4f}", alt.token, piece(alt.token), alt.logprob);
    fmt::print(stderr, "{}\n", line);
  }
  fmt::print(stderr, "prompt: {} tokens in {:.3f} s ({:.1f} tok/s); generation: {} tokens in {:.3f} s ({:.1f} tok/s); "
             "finish: {}; seed {}\n", ids.size(), prefill_s, double(ids.size()) / std::max(prefill_s, 1e-9),
             g.tokens.size(), g.seconds, double(g.tokens.size()) / std::max(g.seconds, 1e-9),
             finish_reason_name(g.finish), o.gen.options.sampling.seed);
  return Status::ok();
}

}  // namespace

int run_run(const RunOptions& o) {
  if (Status s = run(o); !s) {
    fmt::print(stderr, "dsv4 run: {}\n", s.message());
    return 1;
  }
  return 0;
}

}  // namespace dsv4
