// The typed input of the chat encoder: messages and options as chat-format.md §3 describes them. These
// are plain data; chat_request.h fills them from an OpenAI-style JSON request and chat_encoder.h renders
// them. Where the reference treats JSON null and an absent field differently, the field says so.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/chat_profile.h"
#include "text/json_text.h"

namespace dsv4 {

enum class ChatRole { kSystem, kDeveloper, kUser, kAssistant, kTool, kLatestReminder };

std::optional<ChatRole> chat_role_from_name(std::string_view name);

// "Quick instruction" tasks for DeepSeek's internal classifiers (§5.5).
enum class ChatTask { kAction, kQuery, kAuthority, kDomain, kTitle, kReadUrl };

std::optional<ChatTask> chat_task_from_name(std::string_view name);
std::string_view chat_task_token(ChatTask task);  // e.g. "<｜query｜>"

struct ChatToolCall {
  std::string id;         // empty when the client sent none; used only to re-order results (§4.2)
  std::string name;       // inserted raw into the DSML invoke tag
  std::string arguments;  // the client's JSON text; text that is not JSON is sent as one "arguments" string
};

// One part of a tool result whose content is a list (§4.1).
struct ChatContentPart {
  std::optional<std::string> type;  // "text" contributes `text`; others render "[Unsupported <type>]"
  std::string text;
};

struct ChatMessage {
  ChatRole role = ChatRole::kUser;
  // nullopt is JSON null. Renders as "" except for tool and latest_reminder messages, where the reference
  // writes Python's "None" [quirk]. An absent tool content is "" (the reference's default), so the JSON
  // adapter stores "" for it; an absent content elsewhere behaves like null.
  std::optional<std::string> content;
  std::optional<std::vector<ChatContentPart>> content_parts;  // tool only: content given as a list of parts
  std::optional<std::string> reasoning_content;               // assistant
  std::vector<ChatToolCall> tool_calls;                       // assistant
  std::string tool_call_id;                                   // tool
  // The `function` objects of the OpenAI tool list. Rendered for system and developer messages; any
  // non-user message that carries them keeps earlier reasoning (§4.3).
  std::vector<JsonValue> tools;
  std::optional<JsonValue> response_format;  // system and developer; rendered when Python-truthy
  std::optional<ChatTask> task;
  bool wo_eos = false;  // assistant: leave the turn open (no EOS), for prefill/continuation
};

enum class ThinkingMode { kChat, kThinking };

struct ChatOptions {
  ThinkingMode thinking_mode = ThinkingMode::kChat;
  bool drop_thinking = true;
  std::optional<std::string> reasoning_effort;  // nullopt = null; the profile decides what is valid
  bool add_bos = true;
  const ChatProfile* profile = &chat_profile_v4();
};

}  // namespace dsv4
