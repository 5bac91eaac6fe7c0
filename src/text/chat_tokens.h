// The special strings of the DeepSeek-V4 chat format that every release shares (chat-format.md §2).
// Release-specific strings (DSML tags, the tools block, effort texts) live in the ChatProfile tables.
// Note the full-width bar U+FF5C and the block U+2581: ASCII look-alikes produce a different prompt.
#pragma once

#include <string_view>

namespace dsv4 {

inline constexpr std::string_view kBosToken = "<｜begin▁of▁sentence｜>";
inline constexpr std::string_view kEosToken = "<｜end▁of▁sentence｜>";
inline constexpr std::string_view kUserToken = "<｜User｜>";
inline constexpr std::string_view kAssistantToken = "<｜Assistant｜>";
inline constexpr std::string_view kLatestReminderToken = "<｜latest_reminder｜>";
inline constexpr std::string_view kThinkStart = "<think>";
inline constexpr std::string_view kThinkEnd = "</think>";
inline constexpr std::string_view kToolResultOpen = "<tool_result>";
inline constexpr std::string_view kToolResultClose = "</tool_result>";

}  // namespace dsv4
