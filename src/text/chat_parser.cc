// parse_completion's entry point, the JSON form of its result, and the helpers both parsers share; the
// parsers are in chat_parse_strict.cc (§8.1) and chat_parse_lenient.cc (§8.2).
#include "text/chat_parser.h"

#include <cstdint>
#include <nlohmann/json.hpp>

#include "text/chat_parse_internal.h"
#include "text/json_text.h"
#include "text/utf8.h"

namespace dsv4 {

Result<ParsedMessage> parse_completion(std::string_view text, bool thinking, ParseMode mode,
                                       const ChatProfile& profile) {
  DSV4_RETURN_IF_ERROR(check_utf8(text, "completion"));
  if (mode == ParseMode::kStrict) return parse_completion_strict(text, thinking, profile.dsml);
  return parse_completion_lenient(text, thinking, profile.dsml);
}

bool is_python_space(char32_t cp) {
  if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
  if (cp < 0x85) return false;
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

size_t skip_python_space(std::string_view s, size_t pos) {
  while (pos < s.size()) {
    size_t next = pos;
    if (!is_python_space(decode_utf8(s, next))) break;
    pos = next;
  }
  return pos;
}

std::string_view rtrim_python_space(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80) --start;
    size_t pos = start;
    if (!is_python_space(decode_utf8(s, pos))) break;
    end = start;
  }
  return s.substr(0, end);
}

std::string arguments_text(const std::vector<DsmlArgument>& args) {
  std::string text = "{";
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) text += ", ";
    append_json_string(text, args[i].key);
    text += ": ";
    text += args[i].json;
  }
  text += '}';
  return text;
}

nlohmann::ordered_json to_json(const ParsedMessage& message) {
  nlohmann::ordered_json calls = nlohmann::ordered_json::array();
  for (const ParsedToolCall& call : message.tool_calls) {
    calls.push_back({{"type", "function"}, {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
  }
  return {{"reasoning_content", message.reasoning_content}, {"content", message.content}, {"tool_calls", calls}};
}

}  // namespace dsv4
