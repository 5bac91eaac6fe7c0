// libFuzzer target: parse_completion on arbitrary bytes, strict and lenient, in chat and thinking mode.
// Beyond not crashing: lenient mode fails exactly on invalid UTF-8, strict mode accepts only UTF-8, errors
// are one line, every parsed field is UTF-8, and lenient arguments are JSON text in Python's form.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "base/check.h"
#include "text/chat_parser.h"
#include "text/json_text.h"
#include "text/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dsv4;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool valid = is_valid_utf8(text);
  for (const ParseMode mode : {ParseMode::kStrict, ParseMode::kLenient}) {
    for (const bool thinking : {false, true}) {
      const Result<ParsedMessage> r = parse_completion(text, thinking, mode);
      if (!r) {
        DSV4_CHECK(mode == ParseMode::kStrict || !valid);
        DSV4_CHECK(!r.status().message().empty() && r.status().message().find('\n') == std::string::npos);
        continue;
      }
      DSV4_CHECK(valid);
      DSV4_CHECK(is_valid_utf8(r->content) && is_valid_utf8(r->reasoning_content));
      for (const ParsedToolCall& call : r->tool_calls) {
        DSV4_CHECK(is_valid_utf8(call.name) && is_valid_utf8(call.arguments));
        if (mode != ParseMode::kLenient) continue;
        const Result<JsonValue> args = parse_json_text(call.arguments);
        DSV4_CHECK(args && to_json_text(args.value()) == call.arguments);
      }
      (void)to_json(r.value()).dump();  // nlohmann throws on invalid UTF-8, which must not reach it
    }
  }
  return 0;
}
