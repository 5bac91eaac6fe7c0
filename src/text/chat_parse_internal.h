// The two completion parsers behind parse_completion (chat_parser.h), and what they share: the substring
// search, Python's whitespace and the arguments object. Internal to the chat library.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "text/chat_parser.h"

namespace dsv4 {

// PRECONDITION for both: `text` is valid UTF-8.
Result<ParsedMessage> parse_completion_strict(std::string_view text, bool thinking, const DsmlTags& tags);
ParsedMessage parse_completion_lenient(std::string_view text, bool thinking, const DsmlTags& tags);

// Python's str.isspace(), which is also what `\s` matches in the reference's str regexes. The reference
// parses Python str (code points); on valid UTF-8, substring search on bytes finds the same matches, so
// code points are only decoded where it uses `\s`.
bool is_python_space(char32_t cp);

// On valid UTF-8: the position after the run of Python whitespace that starts at `pos`, and `s` without
// its trailing Python whitespace (Python's str.rstrip()).
size_t skip_python_space(std::string_view s, size_t pos);
std::string_view rtrim_python_space(std::string_view s);

// One DSML parameter as it enters the arguments object.
struct DsmlArgument {
  std::string key;
  std::string json;  // the value as JSON text
};

// `{"key": value, ...}` with json.dumps's separators: decode_dsml_to_arguments builds it as text.
std::string arguments_text(const std::vector<DsmlArgument>& args);

// text.find(needle, from) for a few fixed needles, remembering each needle's last hit so that parsing
// many tags stays linear even when some needle never occurs again (a plain find would rescan to the end).
class NeedleFinder {
 public:
  explicit NeedleFinder(std::string_view text) : text_(text) {}

  size_t find(std::string_view needle, size_t from) {
    for (Hit& h : hits_) {
      if (h.needle != needle) continue;
      // The first hit at or after h.from is also the first at or after any later `from` up to it.
      if (from < h.from || (h.pos != std::string_view::npos && h.pos < from)) h.pos = text_.find(needle, from);
      h.from = from;
      return h.pos;
    }
    hits_.push_back(Hit{needle, from, text_.find(needle, from)});
    return hits_.back().pos;
  }

 private:
  struct Hit {
    std::string_view needle;
    size_t from;  // where the last search started
    size_t pos;   // its result
  };
  std::string_view text_;
  std::vector<Hit> hits_;
};

}  // namespace dsv4
