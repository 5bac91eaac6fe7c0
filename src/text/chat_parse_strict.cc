// The strict completion parser (chat-format.md §8.1): parse_message_from_completion_text and
// parse_tool_calls of encoding_dsv4.py, step by step, so that exactly the same texts are accepted and the
// same fields come out. Its two regexes are matched by hand below, including Python's `$`, which also
// matches before a final line feed.
#include "text/chat_parse_internal.h"

#include <array>
#include <optional>

#include "text/chat_tokens.h"
#include "text/json_text.h"

namespace dsv4 {
namespace {

struct Parameter {
  std::string_view key;
  bool is_string;
  std::string_view value;
};

// `^\s*name="(.*?)">\n$` (DOTALL) over the text between "<｜DSML｜invoke" and the next tag: the name.
std::optional<std::string_view> match_invoke_header(std::string_view header) {
  constexpr std::string_view kName = "name=\"";
  const size_t start = skip_python_space(header, 0);
  if (header.substr(start, kName.size()) != kName) return std::nullopt;
  const std::string_view rest = header.substr(start + kName.size());
  if (rest.ends_with("\">\n")) return rest.substr(0, rest.size() - 3);
  if (rest.ends_with("\">\n\n")) return rest.substr(0, rest.size() - 4);  // `$` before a final "\n"
  return std::nullopt;
}

// `^ name="(.*?)" string="(true|false)">(.*?)<$` (DOTALL) over the text between "<｜DSML｜parameter"
// and the next "/｜DSML｜parameter". The lazy key ends at the first `" string="true">` or
// `" string="false">`; the value ends at the final '<' (or at the '<' of a final "<\n").
std::optional<Parameter> match_parameter(std::string_view text) {
  constexpr std::string_view kName = " name=\"";
  constexpr std::string_view kString = "\" string=\"";
  if (!text.starts_with(kName)) return std::nullopt;
  size_t last_lt;
  if (text.ends_with("<")) {
    last_lt = text.size() - 1;
  } else if (text.ends_with("<\n")) {
    last_lt = text.size() - 2;
  } else {
    return std::nullopt;
  }
  for (size_t at = text.find(kString, kName.size()); at != std::string_view::npos; at = text.find(kString, at + 1)) {
    const std::string_view flag = text.substr(at + kString.size());
    const bool is_true = flag.starts_with("true\">");
    if (!is_true && !flag.starts_with("false\">")) continue;
    const size_t value_start = at + kString.size() + (is_true ? 6 : 7);
    if (value_start > last_lt) return std::nullopt;
    return Parameter{text.substr(kName.size(), at - kName.size()), is_true,
                     text.substr(value_start, last_lt - value_start)};
  }
  return std::nullopt;
}

class StrictParser {
 public:
  StrictParser(std::string_view text, const DsmlTags& tags)
      : text_(text),
        tags_(tags),
        finder_(text),
        block_start_(fmt::format("\n\n{}", tags.block_open)),
        parameter_end_(tags.parameter_close.substr(1)) {}

  Result<ParsedMessage> parse(bool thinking) {
    ParsedMessage out;
    if (thinking) {
      const Read r = read_until({kThinkEnd, block_start_});
      if (r.stop != 0) return Status::error("completion: missing </think> before the answer (thinking mode)");
      out.reasoning_content = r.skipped;
    }
    const Read r = read_until({kEosToken, block_start_});
    out.content = r.skipped;
    if (r.stop == 1) {
      DSV4_RETURN_IF_ERROR(parse_tool_calls(out.tool_calls));
      if (!read_until({kEosToken}).skipped.empty()) return Status::error("completion: text after the tool calls");
    } else if (r.stop != 0) {
      return Status::error("completion: missing end-of-sentence token");
    }
    if (pos_ != text_.size()) return Status::error("completion: text after the end-of-sentence token");

    const std::array<std::string_view, 5> forbidden = {kBosToken, kEosToken, kThinkStart, kThinkEnd, tags_.marker};
    for (const std::string_view token : forbidden) {
      if (out.content.find(token) != std::string::npos) {
        return Status::error("completion: special token '{}' inside the content", token);
      }
      if (out.reasoning_content.find(token) != std::string::npos) {
        return Status::error("completion: special token '{}' inside the reasoning", token);
      }
    }
    return out;
  }

 private:
  struct Read {
    std::string_view skipped;  // text from the old position up to the stop (or to the end)
    int stop;                  // index of the stop string found first, or -1 when none occurs
  };

  // _read_until_stop: the earliest of `stops` (the first listed wins a tie), moving past it.
  Read read_until(std::initializer_list<std::string_view> stops) {
    size_t best = std::string_view::npos;
    int which = -1;
    int i = 0;
    for (const std::string_view s : stops) {
      const size_t at = finder_.find(s, pos_);
      if (at < best) {
        best = at;
        which = i;
      }
      ++i;
    }
    const size_t from = pos_;
    if (which < 0) {
      pos_ = text_.size();
      return {text_.substr(from), -1};
    }
    pos_ = best + stops.begin()[which].size();
    return {text_.substr(from, best - from), which};
  }

  Status error_at(std::string_view what) const { return Status::error("completion: {} near byte {}", what, pos_); }

  Status parse_tool_calls(std::vector<ParsedToolCall>& calls) {
    while (pos_ < text_.size()) {
      Read r = read_until({tags_.invoke_open, tags_.block_close});
      if (r.skipped != ">\n") return error_at("malformed tool-call block (expected '>' and a line feed)");
      if (r.stop == 1) break;
      if (r.stop < 0) return error_at("tool-call block ends without its closing tag");

      r = read_until({tags_.parameter_open, tags_.invoke_close});
      const std::optional<std::string_view> name = match_invoke_header(r.skipped);
      if (!name) return error_at("malformed invoke tag");
      std::vector<DsmlArgument> args;
      while (r.stop == 0) {
        const Read p = read_until({parameter_end_});
        const std::optional<Parameter> param = match_parameter(p.skipped);
        if (!param) return error_at("malformed parameter tag");
        for (const DsmlArgument& seen : args) {
          if (seen.key == param->key) {
            return error_at(fmt::format("duplicate parameter name {}", json_string_preview(seen.key)));
          }
        }
        // decode_dsml_to_arguments: string="false" values pass through unchecked.
        std::string json = param->is_string ? json_string(param->value) : std::string(param->value);
        args.push_back(DsmlArgument{std::string(param->key), std::move(json)});
        r = read_until({tags_.parameter_open, tags_.invoke_close});
        if (r.skipped != ">\n") return error_at("malformed parameter tag (expected '>' and a line feed)");
      }
      calls.push_back(ParsedToolCall{std::string(*name), arguments_text(args)});
    }
    return Status::ok();
  }

  std::string_view text_;
  const DsmlTags& tags_;
  NeedleFinder finder_;
  size_t pos_ = 0;
  std::string block_start_;         // "\n\n<｜DSML｜tool_calls" (no '>')
  std::string_view parameter_end_;  // "/｜DSML｜parameter": the reference searches without the '<'
};

}  // namespace

Result<ParsedMessage> parse_completion_strict(std::string_view text, bool thinking, const DsmlTags& tags) {
  return StrictParser(text, tags).parse(thinking);
}

}  // namespace dsv4
