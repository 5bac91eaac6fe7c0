// Chat-format profiles: everything that differs between DeepSeek-V4 releases (chat-format.md §9) as
// data. The encoder and parser take every release-specific string from a ChatProfile, so a release that
// only changes text (as 0731 changed the effort table) is one new table; a release with new rules (V4.1,
// §9.3: a System token, numeric effort, spaced DSML tags) adds its table in chat_profile_<version>.cc,
// one line in the registry in chat_profile.cc, and code only for the rules that are not data.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace dsv4 {

struct ReasoningEffortLevel {
  std::string_view name;    // accepted value of reasoning_effort
  std::string_view prefix;  // written before message 0 in thinking mode; may be empty
};

// The DSML tool-call tags (§6), spelled as the parser searches for them: openings without their '>'
// where attributes or the reference's '>\n' check follow.
struct DsmlTags {
  std::string_view marker;           // "｜DSML｜": never allowed in parsed content or reasoning
  std::string_view block_open;       // "<｜DSML｜tool_calls"
  std::string_view block_close;      // "</｜DSML｜tool_calls>"
  std::string_view invoke_open;      // "<｜DSML｜invoke"
  std::string_view invoke_close;     // "</｜DSML｜invoke"
  std::string_view parameter_open;   // "<｜DSML｜parameter"
  std::string_view parameter_close;  // "</｜DSML｜parameter"
};

struct ChatProfile {
  std::string_view name;                          // "v4", "v4-0731"
  std::span<const ReasoningEffortLevel> efforts;  // the accepted non-null reasoning_effort values
  std::string_view default_effort_prefix;         // prefix when reasoning_effort is null
  DsmlTags dsml;
  std::string_view tools_block_head;      // §5.3 tools block up to the schema lines
  std::string_view tools_block_tail;      // §5.3 tools block after the schema lines
  std::string_view response_format_head;  // §5.2 text before the response-format JSON
};

const ChatProfile& chat_profile_v4();       // first release (April 2026), chat_profile_v4.cc
const ChatProfile& chat_profile_v4_0731();  // DeepSeek-V4-Flash-0731, chat_profile_v4.cc

// Every known profile, for lookup by name and for listing in error messages.
std::span<const ChatProfile* const> chat_profiles();
Result<const ChatProfile*> find_chat_profile(std::string_view name);

// The effort prefix for `effort` (nullopt = null), or an error naming the values the profile accepts.
Result<std::string_view> reasoning_effort_prefix(const ChatProfile& profile, const std::optional<std::string>& effort);

}  // namespace dsv4
