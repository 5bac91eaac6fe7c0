// The lenient completion parser (chat-format.md §8.2, non-normative) for serving: a model's output may
// be truncated by a length limit or stop sequence, or drift slightly from the exact layout, and a server
// must still return what it can. Well-formed output gives the strict parser's fields, except that
// `string="false"` values are normalised (parsed as JSON and written back the way Python writes them).
#include "text/chat_parse_internal.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "text/chat_tokens.h"
#include "text/json_text.h"
#include "text/utf8.h"

namespace dsv4 {
namespace {

// Reads tag attributes (name="value" pairs, any spacing) up to the tag's '>'. Returns nullopt when the
// text ends first (a truncated tag). Malformed attribute text is skipped up to the '>'.
std::optional<std::vector<std::pair<std::string_view, std::string_view>>> read_attributes(std::string_view s,
                                                                                          size_t& pos) {
  std::vector<std::pair<std::string_view, std::string_view>> attrs;
  while (true) {
    pos = skip_python_space(s, pos);
    if (pos >= s.size()) return std::nullopt;
    if (s[pos] == '>') {
      ++pos;
      return attrs;
    }
    const size_t key_start = pos;
    while (pos < s.size() && (std::isalnum(static_cast<unsigned char>(s[pos])) || s[pos] == '_' || s[pos] == '-'))
      ++pos;
    const std::string_view key = s.substr(key_start, pos - key_start);
    pos = skip_python_space(s, pos);
    const bool has_value = !key.empty() && pos < s.size() && s[pos] == '=';
    if (has_value) pos = skip_python_space(s, pos + 1);
    if (!has_value || pos >= s.size() || s[pos] != '"') {
      pos = s.find('>', pos);
      if (pos == std::string_view::npos) return std::nullopt;
      ++pos;
      return attrs;
    }
    // The value ends at a quote followed by spacing or '>', so a quote inside a name survives, as it
    // does in the strict parser.
    size_t close = pos;
    while (true) {
      close = s.find('"', close + 1);
      if (close == std::string_view::npos) return std::nullopt;
      size_t next = close + 1;
      if (next == s.size() || s[next] == '>' || is_python_space(decode_utf8(s, next))) break;
    }
    attrs.emplace_back(key, s.substr(pos + 1, close - pos - 1));
    pos = close + 1;
  }
}

std::string_view attribute(const std::vector<std::pair<std::string_view, std::string_view>>& attrs,
                           std::string_view key) {
  for (const auto& [k, v] : attrs) {
    if (k == key) return v;
  }
  return {};
}

// A `string="false"` value: its JSON in Python's form, or the raw text as a string when it is not JSON
// (or holds a lone surrogate escape, which cannot be written back as UTF-8).
std::string value_json(std::string_view raw, bool is_string) {
  if (!is_string) {
    Result<JsonValue> parsed = parse_json_text(raw);
    if (parsed.is_ok()) {
      std::string json = to_json_text(parsed.value());
      if (is_valid_utf8(json)) return json;
    }
  }
  return json_string(raw);
}

class LenientBlockParser {
 public:
  LenientBlockParser(std::string_view block, const DsmlTags& tags) : s_(block), tags_(tags), finder_(block) {}

  // `s_` starts right after "<｜DSML｜tool_calls".
  std::vector<ParsedToolCall> parse() {
    std::vector<ParsedToolCall> calls;
    while (true) {
      const size_t invoke = finder_.find(tags_.invoke_open, pos_);
      if (invoke == std::string_view::npos || invoke > finder_.find(tags_.block_close, pos_)) break;
      pos_ = invoke + tags_.invoke_open.size();
      const auto attrs = read_attributes(s_, pos_);
      if (!attrs) break;  // truncated inside the invoke tag
      std::vector<DsmlArgument> args;
      const bool complete = parse_parameters(args);
      const std::string_view name = attribute(*attrs, "name");
      if (!name.empty()) calls.push_back(ParsedToolCall{std::string(name), arguments_text(args)});
      if (!complete) break;
    }
    return calls;
  }

 private:
  // Parameters up to the end of the invoke. Returns false when the text ends inside a parameter.
  bool parse_parameters(std::vector<DsmlArgument>& args) {
    while (true) {
      const size_t param = finder_.find(tags_.parameter_open, pos_);
      const size_t end = std::min({finder_.find(tags_.invoke_close, pos_), finder_.find(tags_.invoke_open, pos_),
                                   finder_.find(tags_.block_close, pos_)});
      if (param == std::string_view::npos || param > end) {
        if (end != std::string_view::npos && s_.substr(end).starts_with(tags_.invoke_close)) {
          pos_ = end + tags_.invoke_close.size();
          if (pos_ < s_.size() && s_[pos_] == '>') ++pos_;
        }
        return true;
      }
      pos_ = param + tags_.parameter_open.size();
      const auto attrs = read_attributes(s_, pos_);
      if (!attrs) return false;
      const size_t close = finder_.find(tags_.parameter_close, pos_);
      if (close == std::string_view::npos) return false;  // value cut off: drop it
      const std::string_view raw = s_.substr(pos_, close - pos_);
      pos_ = close + tags_.parameter_close.size();
      const size_t gt = skip_python_space(s_, pos_);
      if (gt < s_.size() && s_[gt] == '>') pos_ = gt + 1;
      add_argument(args, attribute(*attrs, "name"), value_json(raw, attribute(*attrs, "string") != "false"));
    }
  }

  // A repeated key keeps its first position and takes the last value, as a Python dict would.
  static void add_argument(std::vector<DsmlArgument>& args, std::string_view key, std::string json) {
    for (DsmlArgument& a : args) {
      if (a.key == key) {
        a.json = std::move(json);
        return;
      }
    }
    args.push_back(DsmlArgument{std::string(key), std::move(json)});
  }

  std::string_view s_;
  const DsmlTags& tags_;
  NeedleFinder finder_;
  size_t pos_ = 0;
};

}  // namespace

ParsedMessage parse_completion_lenient(std::string_view text, bool thinking, const DsmlTags& tags) {
  // Generation stops at EOS; anything after one is not part of this turn.
  text = text.substr(0, text.find(kEosToken));
  ParsedMessage out;
  if (thinking) {
    const size_t end = text.find(kThinkEnd);
    if (end == std::string_view::npos) {
      out.reasoning_content = text;
      return out;
    }
    out.reasoning_content = text.substr(0, end);
    text.remove_prefix(end + kThinkEnd.size());
  }
  const size_t block = text.find(tags.block_open);
  if (block == std::string_view::npos) {
    out.content = text;
    return out;
  }
  out.content = rtrim_python_space(text.substr(0, block));
  out.tool_calls = LenientBlockParser(text.substr(block + tags.block_open.size()), tags).parse();
  return out;
}

}  // namespace dsv4
