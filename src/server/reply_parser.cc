#include "server/reply_parser.h"

#include "text/chat_tokens.h"
#include "text/json_text.h"

namespace dsv4 {

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Whether `s` is a proper beginning of `tag` (more text may complete it).
bool begins(std::string_view s, std::string_view tag) { return s.size() < tag.size() && starts_with(tag, s); }

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

// Length of the longest suffix of `s` that is a proper prefix of `tag`.
size_t held(std::string_view s, std::string_view tag) {
  for (size_t n = std::min(s.size(), tag.size() - 1); n > 0; --n)
    if (s.substr(s.size() - n) == tag.substr(0, n)) return n;
  return 0;
}

// The value of attribute `name` in a tag header such as ` name="city" string="true"`; empty when absent.
std::string_view attribute(std::string_view header, std::string_view name) {
  const std::string key = std::string(name) + "=\"";
  const size_t at = header.find(key);
  if (at == std::string_view::npos) return {};
  const size_t begin = at + key.size();
  const size_t end = header.find('"', begin);
  return header.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin);
}

}  // namespace

ReplyParser::ReplyParser(bool thinking, const ChatProfile& profile)
    : tags_(profile.dsml), mode_(thinking ? Mode::kReasoning : Mode::kContent) {}

ReplyDelta ReplyParser::push(std::string_view text) {
  ReplyDelta d;
  buf_ += text;
  run(d, false);
  return d;
}

ReplyDelta ReplyParser::finish() {
  ReplyDelta d;
  run(d, true);
  return d;
}

void ReplyParser::run(ReplyDelta& d, bool at_end) {
  for (;;) {
    switch (mode_) {
      case Mode::kReasoning: {
        const size_t end = buf_.find(kThinkEnd);
        if (end != std::string::npos) {
          d.reasoning.append(buf_, 0, end);
          reasoning_.append(buf_, 0, end);
          buf_.erase(0, end + kThinkEnd.size());
          mode_ = Mode::kContent;
          continue;
        }
        const size_t n = buf_.size() - (at_end ? 0 : held(buf_, kThinkEnd));
        d.reasoning.append(buf_, 0, n);
        reasoning_.append(buf_, 0, n);
        buf_.erase(0, n);
        return;
      }
      case Mode::kContent: {
        const size_t open = buf_.find(tags_.block_open);
        if (open != std::string::npos) {
          size_t n = open;
          while (n > 0 && is_space(buf_[n - 1])) --n;  // the blank line before the block is not content
          d.content.append(buf_, 0, n);
          content_.append(buf_, 0, n);
          buf_.erase(0, open + tags_.block_open.size());
          mode_ = Mode::kBlock;
          continue;
        }
        size_t n = buf_.size();
        const size_t hold = held(buf_, tags_.block_open);
        // At the end, a cut-off block opener (more than its '<') is an unfinished call, not content.
        if (!at_end || hold > 1) {
          n -= hold;
          while (n > 0 && is_space(buf_[n - 1])) --n;  // may be the blank line before a block
        }
        d.content.append(buf_, 0, n);
        content_.append(buf_, 0, n);
        buf_.erase(0, at_end ? buf_.size() : n);
        return;
      }
      case Mode::kBlock:
        if (!run_block(d, at_end)) return;
        continue;
      case Mode::kInvoke:
        if (!run_invoke(d, at_end)) return;
        continue;
      case Mode::kAfterBlock:
        buf_.clear();  // the reply should end with the block; anything after it is dropped
        return;
    }
  }
}

bool ReplyParser::run_block(ReplyDelta& d, bool at_end) {
  size_t skip = 0;
  while (skip < buf_.size() && (is_space(buf_[skip]) || buf_[skip] == '>')) ++skip;
  buf_.erase(0, skip);
  if (buf_.empty()) return false;
  if (starts_with(buf_, tags_.invoke_open)) {
    const size_t end = buf_.find("\">", tags_.invoke_open.size());
    if (end == std::string::npos) {
      if (!at_end) return false;
      mode_ = Mode::kAfterBlock;  // a truncated invoke header names no function
      return true;
    }
    const std::string_view header = std::string_view(buf_).substr(tags_.invoke_open.size(), end + 1 - tags_.invoke_open.size());
    const std::string name(attribute(header, "name"));
    calls_.push_back({name, ""});
    d.tool_calls.push_back({int(calls_.size()) - 1, name, ""});
    params_ = 0;
    buf_.erase(0, end + 2);
    mode_ = Mode::kInvoke;
    return true;
  }
  if (starts_with(buf_, tags_.block_close)) {
    buf_.erase(0, tags_.block_close.size());
    mode_ = Mode::kAfterBlock;
    return true;
  }
  if (!at_end && (begins(buf_, tags_.invoke_open) || begins(buf_, tags_.block_close))) return false;
  buf_.erase(0, 1);  // stray text between invokes
  return true;
}

bool ReplyParser::run_invoke(ReplyDelta& d, bool at_end) {
  size_t skip = 0;
  while (skip < buf_.size() && is_space(buf_[skip])) ++skip;
  buf_.erase(0, skip);
  const auto close_call = [&] {
    emit_arguments(d, params_ > 0 ? "}" : "{}");
  };
  if (buf_.empty()) {
    if (!at_end) return false;
    close_call();
    mode_ = Mode::kAfterBlock;
    return true;
  }
  if (starts_with(buf_, tags_.parameter_open)) {
    const size_t end = buf_.find("\">", tags_.parameter_open.size());
    if (end == std::string::npos) {
      if (!at_end) return false;
      close_call();  // a truncated parameter header has no value yet
      mode_ = Mode::kAfterBlock;
      return true;
    }
    const std::string header = buf_.substr(tags_.parameter_open.size(), end + 1 - tags_.parameter_open.size());
    const size_t value_at = end + 2;
    const size_t close = buf_.find(tags_.parameter_close, value_at);
    if (close == std::string::npos) {
      if (!at_end) return false;
      emit_parameter(d, header, std::string_view(buf_).substr(value_at));  // truncated: keep what there is
      close_call();
      mode_ = Mode::kAfterBlock;
      return true;
    }
    emit_parameter(d, header, std::string_view(buf_).substr(value_at, close - value_at));
    size_t next = close + tags_.parameter_close.size();
    if (next < buf_.size() && buf_[next] == '>') ++next;
    buf_.erase(0, next);
    return true;
  }
  if (starts_with(buf_, tags_.invoke_close)) {
    size_t next = tags_.invoke_close.size();
    if (next < buf_.size() && buf_[next] == '>') ++next;
    buf_.erase(0, next);
    close_call();
    mode_ = Mode::kBlock;
    return true;
  }
  if (!at_end && (begins(buf_, tags_.parameter_open) || begins(buf_, tags_.invoke_close))) return false;
  buf_.erase(0, 1);  // stray text inside an invoke
  return true;
}

void ReplyParser::emit_parameter(ReplyDelta& d, std::string_view header, std::string_view value) {
  std::string piece = params_ == 0 ? "{" : ", ";
  append_json_string(piece, attribute(header, "name"));
  piece += ": ";
  if (attribute(header, "string") == "false") {
    Result<JsonValue> v = parse_json_text(value);
    if (v) {
      append_json_text(piece, v.value());
    } else {
      append_json_string(piece, value);
    }
  } else {
    append_json_string(piece, value);
  }
  ++params_;
  emit_arguments(d, std::move(piece));
}

void ReplyParser::emit_arguments(ReplyDelta& d, std::string piece) {
  const int index = int(calls_.size()) - 1;
  calls_.back().arguments += piece;
  if (!d.tool_calls.empty() && d.tool_calls.back().index == index) {
    d.tool_calls.back().arguments += piece;
  } else {
    d.tool_calls.push_back({index, "", std::move(piece)});
  }
}

}  // namespace dsv4
