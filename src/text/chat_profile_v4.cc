// The DeepSeek-V4 first-release ("v4") and 0731 ("v4-0731") chat profiles. Both follow encoding_dsv4.py
// as shipped with DeepSeek-V4-Pro (chat-format.md §9.1); 0731 differs only in its effort table (§9.2),
// which is reconstructed from published descriptions of the 0731 encoder, not from the file itself.
#include "text/chat_profile.h"

#include <array>

namespace dsv4 {
namespace {

// §5.1: the first release's "max" text, which 0731 calls "high".
constexpr std::string_view kEffortAbsoluteMaximum =
    "Reasoning Effort: Absolute maximum with no shortcuts permitted.\n"
    "You MUST be very thorough in your thinking and comprehensively decompose the problem to resolve the root "
    "cause, rigorously stress-testing your logic against all potential paths, edge cases, and adversarial "
    "scenarios.\n"
    "Explicitly write out your entire deliberation process, documenting every intermediate step, considered "
    "alternative, and rejected hypothesis to ensure absolutely no assumption is left unchecked.\n\n";

// §9.2: 0731's "max" text (the dash is U+2014).
constexpr std::string_view kEffortBeyondMaximum =
    "Reasoning Effort: Beyond maximum — exhaustive, relentless, and uncompromising.\n"
    "You MUST reason with the utmost depth and rigor, leaving absolutely nothing to chance: exhaustively "
    "decompose the problem into its most fundamental components, trace every causal chain to its root, and "
    "resolve the underlying cause rather than any surface symptom.\n"
    "Do not stop reasoning until you have independently verified the solution from multiple angles and are "
    "certain that no assumption remains unchecked and no error remains undiscovered.\n\n";

constexpr std::array<ReasoningEffortLevel, 2> kV4Efforts = {{
    {"max", kEffortAbsoluteMaximum},
    {"high", ""},
}};

constexpr std::array<ReasoningEffortLevel, 3> kV4_0731Efforts = {{
    {"low", ""},
    {"high", kEffortAbsoluteMaximum},
    {"max", kEffortBeyondMaximum},
}};

constexpr DsmlTags kV4Dsml = {
    .marker = "｜DSML｜",
    .block_open = "<｜DSML｜tool_calls",
    .block_close = "</｜DSML｜tool_calls>",
    .invoke_open = "<｜DSML｜invoke",
    .invoke_close = "</｜DSML｜invoke",
    .parameter_open = "<｜DSML｜parameter",
    .parameter_close = "</｜DSML｜parameter",
};

// §5.3, split around the schema lines.
constexpr std::string_view kV4ToolsHead =
    "## Tools\n\n"
    "You have access to a set of tools to help answer the user's question. You can invoke tools by writing a "
    "\"<｜DSML｜tool_calls>\" block like the following:\n\n"
    "<｜DSML｜tool_calls>\n"
    "<｜DSML｜invoke name=\"$TOOL_NAME\">\n"
    "<｜DSML｜parameter name=\"$PARAMETER_NAME\" string=\"true|false\">$PARAMETER_VALUE</｜DSML｜parameter>\n"
    "...\n"
    "</｜DSML｜invoke>\n"
    "<｜DSML｜invoke name=\"$TOOL_NAME2\">\n"
    "...\n"
    "</｜DSML｜invoke>\n"
    "</｜DSML｜tool_calls>\n\n"
    "String parameters should be specified as is and set `string=\"true\"`. For all other types (numbers, "
    "booleans, arrays, objects), pass the value in JSON format and set `string=\"false\"`.\n\n"
    "If thinking_mode is enabled (triggered by <think>), you MUST output your complete reasoning inside "
    "<think>...</think> BEFORE any tool calls or final response.\n\n"
    "Otherwise, output directly after </think> with tool calls or final response.\n\n"
    "### Available Tool Schemas\n\n";
constexpr std::string_view kV4ToolsTail =
    "\n\nYou MUST strictly follow the above defined tool name and parameter schemas to invoke tool calls.\n";

constexpr std::string_view kV4ResponseFormatHead =
    "## Response Format:\n\nYou MUST strictly adhere to the following schema to reply:\n";

constexpr ChatProfile kV4 = {
    .name = "v4",
    .efforts = kV4Efforts,
    .default_effort_prefix = "",
    .dsml = kV4Dsml,
    .tools_block_head = kV4ToolsHead,
    .tools_block_tail = kV4ToolsTail,
    .response_format_head = kV4ResponseFormatHead,
};

// The first release with 0731's effort table. Null means "low" in 0731, which writes nothing, like the first
// release's null, so the default prefix stays.
constexpr ChatProfile kV4_0731 = [] {
  ChatProfile p = kV4;
  p.name = "v4-0731";
  p.efforts = kV4_0731Efforts;
  return p;
}();

}  // namespace

const ChatProfile& chat_profile_v4() { return kV4; }
const ChatProfile& chat_profile_v4_0731() { return kV4_0731; }

}  // namespace dsv4
