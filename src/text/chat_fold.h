// Preprocessing of a conversation before rendering (chat-format.md §4), following merge_tool_messages,
// sort_tool_results_by_call_order and _drop_thinking_messages of encoding_dsv4.py: tool results folded
// into user turns, re-ordered to the call order, and earlier turns dropped in thinking mode. Internal to
// the encoder; the messages are referenced, never copied.
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "text/chat_message.h"

namespace dsv4 {

struct FoldedMessage {
  const ChatMessage* source = nullptr;  // the original message; for a user turn, the one that opened it
  std::string_view list;                // "messages" or "context", for error messages
  size_t index = 0;                     // position of `source` in that list
  ChatRole role = ChatRole::kUser;      // kUser for every folded turn, including tool-result-only ones
  // User turns only: the user (text block) and tool (tool-result block) messages, in render order.
  std::vector<const ChatMessage*> blocks;
  std::optional<ChatTask> task;  // a user turn keeps the task of the user message that opened it
};

// §4.1: consecutive user and tool messages become one user turn, except that a user message after a
// turn with a task starts a new one. Other messages pass through.
std::vector<FoldedMessage> fold_tool_results(std::span<const ChatMessage> messages, std::string_view list);

// §4.2: stable-sorts the tool-result blocks of each user turn by the position of their call in the
// latest assistant message with tool calls (unknown ids count as position 0).
void reorder_tool_results(std::vector<FoldedMessage>& messages);

// §4.3: whether any message carries a non-empty tool list, which turns dropping off.
bool declares_tools(std::span<const FoldedMessage> messages);

// Index of the last user or developer message, or -1.
long last_user_index(std::span<const FoldedMessage> messages);

// §4.4: keeps everything from the last user/developer message on and, before it, system, user,
// latest-reminder and assistant messages (the assistant's reasoning is dropped at render time).
std::vector<FoldedMessage> drop_earlier_turns(std::span<const FoldedMessage> messages);

}  // namespace dsv4
