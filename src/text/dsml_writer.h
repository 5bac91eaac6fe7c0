// Writes the DSML tool-call block of an assistant turn (chat-format.md §6), following
// encode_arguments_to_dsml and the tool-call templates of encoding_dsv4.py.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "text/chat_message.h"
#include "text/chat_profile.h"

namespace dsv4 {

// Appends "<｜DSML｜tool_calls>\n" + one invoke per call joined by "\n" + "\n</｜DSML｜tool_calls>" (no
// leading "\n\n"). Each call's arguments are read as Python's json.loads would; text that is not JSON
// becomes the single string parameter "arguments", while JSON that is not an object is an error (the
// reference crashes on it). `where` names the message for errors, e.g. "messages[2]".
Status append_dsml_tool_calls(std::string& out, std::span<const ChatToolCall> calls, const DsmlTags& tags,
                              std::string_view where);

}  // namespace dsv4
