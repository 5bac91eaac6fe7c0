// Prompt rendering (chat-format.md §5): effort prefix, message bodies and the transition after each
// message, following render_message and encode_messages in encoding_dsv4.py. Preprocessing (§4) is in
// chat_fold.cc, the DSML block (§6) in dsml_writer.cc, release-specific text in the ChatProfile.
#include "text/chat_encoder.h"

#include "text/chat_fold.h"
#include "text/chat_tokens.h"
#include "text/dsml_writer.h"
#include "text/utf8.h"

namespace dsv4 {
namespace {

// Python's str(None), which the reference writes for a null tool-result or latest-reminder content.
constexpr std::string_view kPythonNone = "None";

struct Renderer {
  std::span<const FoldedMessage> messages;  // after preprocessing; indices are positions in this list
  const ChatProfile& profile;
  std::string_view effort_prefix;
  bool thinking;
  bool dropping;   // drop_thinking in effect (§4.3)
  long last_user;  // §5: last user/developer index of `messages`

  Status render(size_t i, std::string& out) const {
    const FoldedMessage& m = messages[i];
    if (i == 0 && thinking) out += effort_prefix;
    switch (m.role) {
      case ChatRole::kSystem:
        out += m.source->content.value_or("");
        append_tools_and_format(*m.source, out);
        break;
      case ChatRole::kDeveloper:
        if (!m.source->content || m.source->content->empty()) {
          return Status::error("{}[{}]: a developer message needs non-empty content", m.list, m.index);
        }
        out += kUserToken;
        out += *m.source->content;
        append_tools_and_format(*m.source, out);
        break;
      case ChatRole::kUser: render_user_turn(m, out); break;
      case ChatRole::kLatestReminder:
        out += kLatestReminderToken;
        out += m.source->content ? std::string_view(*m.source->content) : kPythonNone;
        break;
      case ChatRole::kAssistant: DSV4_RETURN_IF_ERROR(render_assistant(i, out)); break;
      case ChatRole::kTool: break;  // folded into user turns before rendering
    }
    append_transition(i, out);
    return Status::ok();
  }

  void append_tools_and_format(const ChatMessage& m, std::string& out) const {
    if (!m.tools.empty()) {
      out += "\n\n";
      out += profile.tools_block_head;
      for (size_t t = 0; t < m.tools.size(); ++t) {
        if (t > 0) out += '\n';
        append_json_text(out, m.tools[t]);
      }
      out += profile.tools_block_tail;
    }
    if (m.response_format && json_truthy(*m.response_format)) {
      out += "\n\n";
      out += profile.response_format_head;
      append_json_text(out, *m.response_format);
    }
  }

  static void render_user_turn(const FoldedMessage& m, std::string& out) {
    out += kUserToken;
    for (size_t b = 0; b < m.blocks.size(); ++b) {
      if (b > 0) out += "\n\n";
      const ChatMessage& block = *m.blocks[b];
      if (block.role != ChatRole::kTool) {
        out += block.content.value_or("");
        continue;
      }
      out += kToolResultOpen;
      if (block.content_parts) {
        for (size_t p = 0; p < block.content_parts->size(); ++p) {
          const ChatContentPart& part = (*block.content_parts)[p];
          if (p > 0) out += "\n\n";
          if (part.type == "text") {
            out += part.text;
          } else {
            out += "[Unsupported ";
            out += part.type ? std::string_view(*part.type) : kPythonNone;
            out += ']';
          }
        }
      } else {
        out += block.content ? std::string_view(*block.content) : kPythonNone;
      }
      out += kToolResultClose;
    }
  }

  Status render_assistant(size_t i, std::string& out) const {
    const ChatMessage& m = *messages[i].source;
    // After a task turn the assistant's text is the task output, which has no reasoning part.
    const bool after_task = i > 0 && messages[i - 1].task.has_value();
    if (thinking && !after_task && (!dropping || static_cast<long>(i) > last_user)) {
      out += m.reasoning_content.value_or("");
      out += kThinkEnd;
    }
    out += m.content.value_or("");
    if (!m.tool_calls.empty()) {
      out += "\n\n";
      DSV4_RETURN_IF_ERROR(append_dsml_tool_calls(out, m.tool_calls, profile.dsml,
                                                  fmt::format("{}[{}]", messages[i].list, messages[i].index)));
    }
    if (!m.wo_eos) out += kEosToken;
    return Status::ok();
  }

  // §5.5: the generation prompt (or task token) goes after the last message and before an assistant or
  // latest-reminder message; a reminder right after a user turn thus lands after its <think> [quirk].
  void append_transition(size_t i, std::string& out) const {
    if (i + 1 < messages.size()) {
      const ChatRole next = messages[i + 1].role;
      if (next != ChatRole::kAssistant && next != ChatRole::kLatestReminder) return;
    }
    const FoldedMessage& m = messages[i];
    if (m.task) {
      if (*m.task == ChatTask::kAction) {
        out += kAssistantToken;
        out += thinking ? kThinkStart : kThinkEnd;
      }
      out += chat_task_token(*m.task);
      return;
    }
    if (m.role != ChatRole::kUser && m.role != ChatRole::kDeveloper) return;
    out += kAssistantToken;
    const bool opens_reasoning = thinking && (!dropping || static_cast<long>(i) >= last_user);
    out += opens_reasoning ? kThinkStart : kThinkEnd;
  }
};

}  // namespace

Result<std::string> encode_chat(std::span<const ChatMessage> messages, const ChatOptions& options,
                                std::span<const ChatMessage> context) {
  if (options.profile == nullptr) return Status::error("chat options: no profile set");
  const ChatProfile& profile = *options.profile;
  DSV4_ASSIGN_OR_RETURN(const std::string_view effort_prefix,
                        reasoning_effort_prefix(profile, options.reasoning_effort));

  const std::vector<FoldedMessage> folded_context = fold_tool_results(context, "context");
  std::vector<FoldedMessage> all = folded_context;
  for (FoldedMessage& m : fold_tool_results(messages, "messages")) all.push_back(std::move(m));
  const size_t n_new = all.size() - folded_context.size();
  // One walk over context + messages re-orders both parts as the reference's two walks do: only
  // assistant messages change the call-order map, and they are the same in both.
  reorder_tool_results(all);

  const bool thinking = options.thinking_mode == ThinkingMode::kThinking;
  const bool dropping = options.drop_thinking && !declares_tools(all);
  size_t first = folded_context.size();
  size_t count = n_new;
  if (thinking && dropping) {
    all = drop_earlier_turns(all);
    // The reference counts what dropping leaves of the context on its own, which can differ from what
    // it leaves of the context inside the whole conversation; follow it.
    const size_t context_kept = drop_earlier_turns(folded_context).size();
    count = all.size() > context_kept ? all.size() - context_kept : 0;
    first = all.size() - count;
  }

  const Renderer renderer{.messages = all,
                          .profile = profile,
                          .effort_prefix = effort_prefix,
                          .thinking = thinking,
                          .dropping = dropping,
                          .last_user = last_user_index(all)};
  std::string prompt(options.add_bos && context.empty() ? kBosToken : "");
  for (size_t i = first; i < first + count; ++i) DSV4_RETURN_IF_ERROR(renderer.render(i, prompt));

  const size_t valid = utf8_valid_prefix(prompt);
  if (valid != prompt.size()) {
    return Status::error(
        "rendered prompt is not valid UTF-8 at byte {} (invalid input text, or a lone "
        "surrogate \\u escape in tool-call arguments)",
        valid);
  }
  return prompt;
}

}  // namespace dsv4
