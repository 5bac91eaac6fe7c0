// Splits a reply, while it streams, into reasoning, content and tool calls (chat-format.md §8.2): the
// server's streaming and non-streaming responses both come from it, so they always agree. Text that may
// still turn into "</think>" or the DSML block opener is held back until it cannot; DSML never reaches
// the content. Tool-call arguments come out as JSON text in pieces, one per completed parameter:
// "{" + "\"key\": value" (", " between them) + "}", where a string="true" value becomes a JSON string and
// a string="false" value its JSON text in Python's form (a JSON string when it is not JSON).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "text/chat_profile.h"

namespace dsv4 {

struct ToolCallDelta {
  int index = 0;          // which call of the reply
  std::string name;       // set on the call's first delta only
  std::string arguments;  // the next piece of the arguments' JSON text
};

struct ReplyDelta {
  std::string reasoning;
  std::string content;
  std::vector<ToolCallDelta> tool_calls;
  bool empty() const { return reasoning.empty() && content.empty() && tool_calls.empty(); }
};

struct ReplyToolCall {
  std::string name;
  std::string arguments;  // complete JSON object text
};

class ReplyParser {
 public:
  // `thinking`: the prompt ended inside the reasoning block (thinking mode).
  explicit ReplyParser(bool thinking, const ChatProfile& profile = chat_profile_v4());

  ReplyDelta push(std::string_view text);
  // End of the reply: releases held text and closes a truncated call (its last parameter keeps what was
  // generated of it).
  ReplyDelta finish();

  const std::string& reasoning() const { return reasoning_; }
  const std::string& content() const { return content_; }
  const std::vector<ReplyToolCall>& tool_calls() const { return calls_; }

 private:
  enum class Mode { kReasoning, kContent, kBlock, kInvoke, kAfterBlock };
  void run(ReplyDelta& d, bool at_end);
  bool run_block(ReplyDelta& d, bool at_end);   // false: needs more text
  bool run_invoke(ReplyDelta& d, bool at_end);  // false: needs more text
  void emit_arguments(ReplyDelta& d, std::string piece);
  void emit_parameter(ReplyDelta& d, std::string_view header, std::string_view value);

  const DsmlTags& tags_;
  Mode mode_;
  std::string buf_;  // text not yet consumed
  std::string reasoning_, content_;
  std::vector<ReplyToolCall> calls_;
  int params_ = 0;  // parameters of the open invoke
};

}  // namespace dsv4
