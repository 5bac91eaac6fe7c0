// parse_completion's entry point and the JSON form of its result; the parsers are in
// chat_parse_strict.cc (§8.1) and chat_parse_lenient.cc (§8.2).
#include "text/chat_parser.h"

#include <nlohmann/json.hpp>

#include "text/chat_parse_internal.h"
#include "text/chat_utf8.h"

namespace dsv4 {

Result<ParsedMessage> parse_completion(std::string_view text, bool thinking, ParseMode mode,
                                       const ChatProfile& profile) {
  DSV4_RETURN_IF_ERROR(check_utf8(text, "completion"));
  if (mode == ParseMode::kStrict) return parse_completion_strict(text, thinking, profile.dsml);
  return parse_completion_lenient(text, thinking, profile.dsml);
}

nlohmann::ordered_json to_json(const ParsedMessage& message) {
  nlohmann::ordered_json calls = nlohmann::ordered_json::array();
  for (const ParsedToolCall& call : message.tool_calls) {
    calls.push_back({{"type", "function"}, {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
  }
  return {{"reasoning_content", message.reasoning_content}, {"content", message.content}, {"tool_calls", calls}};
}

}  // namespace dsv4
