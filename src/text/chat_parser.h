// Parses a DeepSeek-V4 completion (the text generated after the prompt) into reasoning_content, content
// and tool calls: chat-format.md §8. Strict mode is parse_message_from_completion_text of
// encoding_dsv4.py (golden vectors in tests/data/golden/chat/parse.jsonl); lenient mode is the
// practical parser of §8.2 for serving, which tolerates truncated or slightly malformed output.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "text/chat_profile.h"

namespace dsv4 {

enum class ParseMode {
  // §8.1: accepts exactly what the reference accepts. `string="false"` values are copied verbatim into
  // `arguments`, so arguments may be invalid JSON when the model wrote invalid JSON.
  kStrict,
  // §8.2: no EOS needed (text after an EOS is ignored); thinking output without </think> is all
  // reasoning; the block is found by "<｜DSML｜tool_calls" alone (content then loses trailing
  // whitespace); spacing inside tags, a missing closing tag and a truncated last parameter are
  // tolerated; DSML text in reasoning is kept. `string="false"` values are parsed as JSON and written
  // back in Python's form, or kept as a JSON string when they are not JSON. Fails only on invalid UTF-8.
  kLenient,
};

struct ParsedToolCall {
  std::string name;
  std::string arguments;  // JSON object text, e.g. {"city": "Lisbon"}; no call ids (the format has none)
};

struct ParsedMessage {
  std::string reasoning_content;  // empty in chat mode
  std::string content;
  std::vector<ParsedToolCall> tool_calls;
};

// `thinking`: the completion was generated in thinking mode, so it starts inside the reasoning.
Result<ParsedMessage> parse_completion(std::string_view text, bool thinking, ParseMode mode,
                                       const ChatProfile& profile = chat_profile_v4());

// {"reasoning_content": ..., "content": ..., "tool_calls": [{"type": "function", "function":
// {"name": ..., "arguments": ...}}]}: the shape of the reference's result and of parse.jsonl's `expected`.
nlohmann::ordered_json to_json(const ParsedMessage& message);

}  // namespace dsv4
