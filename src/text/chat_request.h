// OpenAI-style JSON requests for the chat encoder: reads {"messages": [...], "tools": [...] | null,
// "options": {...}} (the record shape of tests/data/golden/chat/cases.jsonl) into typed messages and
// renders them with encode_chat. Request-level tools are attached as chat-format.md §3.3 describes.
//
// options: "thinking" (bool, required), "reasoning_effort" (string or null), "drop_thinking" (bool,
// default true), "profile" ("v4" default, "v4-0731"), "add_bos" (bool, default true) and "context"
// (messages already encoded, §3.2). Unknown fields anywhere are ignored. Every error is one line naming
// the JSON path, e.g. "messages[2].role: unknown role 'bot' (...)".
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "text/chat_message.h"
#include "text/json_text.h"

namespace dsv4 {

struct ChatRequest {
  std::vector<ChatMessage> messages;
  std::vector<ChatMessage> context;
  ChatOptions options;
};

Result<ChatRequest> chat_request_from_json(const JsonValue& request);

// Renders a request given as JSON. Tool schemas and response formats are written in the key order they
// have here, so the request must be an ordered_json (nlohmann::json sorts keys and cannot be rendered
// faithfully). The text overload also keeps integers beyond 64 bits exact.
Result<std::string> render_chat(const nlohmann::ordered_json& request);
Result<std::string> render_chat(const nlohmann::json& request) = delete;
Result<std::string> render_chat_text(std::string_view request_json);

// A JsonValue with the same content, for callers holding schemas in nlohmann form. Strings are copied
// as they are (validate them with chat_request_from_json or check_utf8).
Result<JsonValue> json_value_from(const nlohmann::ordered_json& value);

}  // namespace dsv4
