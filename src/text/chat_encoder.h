// The DeepSeek-V4 prompt encoder over typed messages: chat-format.md §4-§6, byte for byte what
// encode_messages in encoding_dsv4.py produces (golden vectors in tests/data/golden/chat/cases.jsonl).
// For OpenAI-style JSON requests use chat_request.h, which fills these types and calls this.
#pragma once

#include <span>
#include <string>

#include "base/status.h"
#include "text/chat_message.h"

namespace dsv4 {

// Renders `messages` as the prompt string (UTF-8). `context` is an already-encoded earlier part of the
// conversation (§3.2): it is not rendered and suppresses BOS, but folding, re-ordering, the last-user
// index, dropping and message 0 are all evaluated over context + messages, as the reference does.
// Errors (one line): an invalid effort for the profile, an empty developer message, tool-call arguments
// that are JSON but not an object, or text that is not valid UTF-8 (e.g. a lone surrogate escape).
Result<std::string> encode_chat(std::span<const ChatMessage> messages, const ChatOptions& options,
                                std::span<const ChatMessage> context = {});

}  // namespace dsv4
