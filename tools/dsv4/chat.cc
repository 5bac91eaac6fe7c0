// dsv4 chat: a multi-turn conversation in the terminal. Each turn renders the whole conversation in the
// V4 chat format, but the Session keeps the KV cache: a prompt that extends the cached tokens is only
// prefilled from where it differs, and the end of each prompt is a reuse point (thinking mode drops
// earlier reasoning from the history, so the next prompt diverges inside the previous reply).
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "app/model_bundle.h"
#include "commands.h"
#include "text/chat_encoder.h"
#include "text/chat_parser.h"
#include "text/chat_tokens.h"

namespace dsv4 {

namespace {

// Streams a thinking-mode reply: reasoning (until </think>) dim on a terminal, then the answer. Text that
// may be the start of the marker waits for the next piece.
class ReplyPrinter {
 public:
  ReplyPrinter(bool reasoning, bool color) : reasoning_(reasoning), color_(color) {
    if (reasoning_ && color_) emit("\x1b[2m");
  }
  void push(std::string_view piece) {
    pending_ += piece;
    if (reasoning_) {
      const size_t end = pending_.find(kThinkEnd);
      if (end != std::string::npos) {
        emit(pending_.substr(0, end));
        emit(color_ ? "\x1b[0m\n" : std::string(kThinkEnd));
        pending_.erase(0, end + kThinkEnd.size());
        reasoning_ = false;
      }
    }
    size_t hold = 0;  // longest suffix that begins the marker
    if (reasoning_)
      for (size_t n = std::min(pending_.size(), kThinkEnd.size() - 1); n > 0; --n)
        if (kThinkEnd.substr(0, n) == std::string_view(pending_).substr(pending_.size() - n)) {
          hold = n;
          break;
        }
    emit(pending_.substr(0, pending_.size() - hold));
    pending_.erase(0, pending_.size() - hold);
  }
  void finish() {
    emit(pending_);
    if (reasoning_ && color_) emit("\x1b[0m");
    emit("\n");
  }

 private:
  static void emit(std::string_view s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
  }
  bool reasoning_, color_;
  std::string pending_;
};

struct ChatState {
  std::vector<ChatMessage> history;
  bool think = false;
  std::optional<std::string> effort;
};

// Handles a /command; returns false for /exit.
bool command(const std::string& line, ChatState& st, Session& session) {
  const auto say = [](const std::string& s) { fmt::print("{}\n", s); };
  if (line == "/exit" || line == "/quit") return false;
  if (line == "/reset") {
    st.history.clear();
    session.reset();
    say("(conversation cleared)");
  } else if (line == "/think on" || line == "/think off") {
    st.think = line == "/think on";
    say(fmt::format("(thinking {})", st.think ? "on" : "off"));
  } else if (line == "/effort high" || line == "/effort max" || line == "/effort none") {
    const std::string e = line.substr(8);
    st.effort = e == "none" ? std::nullopt : std::optional<std::string>(e);
    say(fmt::format("(reasoning effort {})", e));
  } else {
    say("commands: /reset, /think on|off, /effort high|max|none, /exit");
  }
  return true;
}

Status turn(const std::string& text, ChatState& st, ModelBundle& b, Session& session, const GenerationFlags& gen,
            bool tty) {
  ChatMessage user;
  user.role = ChatRole::kUser;
  user.content = text;
  st.history.push_back(user);
  ChatOptions opts;
  opts.thinking_mode = st.think ? ThinkingMode::kThinking : ThinkingMode::kChat;
  opts.reasoning_effort = st.effort;
  const auto undo = [&](Status s) {
    st.history.pop_back();
    return s;
  };
  auto prompt = encode_chat(st.history, opts);
  if (!prompt) return undo(prompt.status());
  auto ids = b.tokenizer.encode(prompt.value());
  if (!ids) return undo(ids.status());
  // The reuse point goes one token before the end: in thinking mode the next render writes this turn's
  // "<think>" as "</think>" (its reasoning dropped), so the conversations part ways exactly there.
  const auto t0 = std::chrono::steady_clock::now();
  const std::span<const int32_t> all(ids.value());
  Status s = all.size() > 1 ? session.sync(all.first(all.size() - 1)) : Status::ok();
  const int64_t reused = session.reused_tokens();
  if (s) session.mark_reuse_point();
  if (s) s = session.sync(all);
  if (!s) return undo(s.with_context("(try /reset) "));
  const double prefill_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  GenerateOptions go = gen.options;
  go.eos_id = b.eos_id;
  ReplyPrinter printer(st.think, tty);
  auto g = generate(session, b.tokenizer, go, [&](std::string_view piece) { printer.push(piece); });
  printer.finish();
  if (!g) return undo(g.status());
  auto parsed = parse_completion(g->text, st.think, ParseMode::kLenient);
  ChatMessage reply;
  reply.role = ChatRole::kAssistant;
  reply.content = parsed ? parsed->content : g->text;
  if (parsed && st.think) reply.reasoning_content = parsed->reasoning_content;
  st.history.push_back(reply);
  fmt::print(stderr, "[prompt {} tokens ({} reused) in {:.2f} s; {} tokens at {:.1f} tok/s; {}]\n", ids->size(),
             reused, prefill_s, g->tokens.size(),
             double(g->tokens.size()) / std::max(g->seconds, 1e-9), finish_reason_name(g->finish));
  return Status::ok();
}

}  // namespace

int run_chat(const ChatOptionsCli& o) {
  GenerationFlags gen = o.gen;
  pick_seed(gen);
  auto bundle = load_model_bundle(o.model);
  if (!bundle) {
    fmt::print(stderr, "dsv4 chat: {}\n", bundle.status().message());
    return 1;
  }
  ModelBundle& b = bundle.value();
  Session session(*b.model, gen.ctx);
  ChatState st;
  st.think = o.think;
  if (!o.effort.empty()) st.effort = o.effort;
  const bool tty = ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO);
  fmt::print("dsv4 chat ({}): /reset, /think on|off, /effort high|max|none, /exit\n", o.model);
  std::string line;
  while (true) {
    if (tty) {
      fmt::print("> ");
      std::fflush(stdout);
    }
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    if (line[0] == '/') {
      if (!command(line, st, session)) break;
      continue;
    }
    if (Status s = turn(line, st, b, session, gen, tty); !s) fmt::print("error: {}\n", s.message());
  }
  return 0;
}

}  // namespace dsv4
