// Conversation preprocessing (chat-format.md §4); see chat_fold.h.
#include "text/chat_fold.h"

#include <algorithm>
#include <string>
#include <unordered_map>

namespace dsv4 {

std::vector<FoldedMessage> fold_tool_results(std::span<const ChatMessage> messages, std::string_view list) {
  std::vector<FoldedMessage> out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    const bool into_last_turn = !out.empty() && out.back().role == ChatRole::kUser;
    if (m.role == ChatRole::kTool && into_last_turn) {
      out.back().blocks.push_back(&m);
      continue;
    }
    if (m.role == ChatRole::kUser && into_last_turn && !out.back().task) {
      out.back().blocks.push_back(&m);
      continue;
    }
    FoldedMessage f{.source = &m, .list = list, .index = i, .role = m.role};
    if (m.role == ChatRole::kTool || m.role == ChatRole::kUser) {
      // Every user turn is built here; a tool message opens one without a task, and a user message's
      // own tools and response_format are discarded with it.
      f.role = ChatRole::kUser;
      f.blocks.push_back(&m);
      if (m.role == ChatRole::kUser) f.task = m.task;
    } else {
      f.task = m.task;
    }
    out.push_back(std::move(f));
  }
  return out;
}

void reorder_tool_results(std::vector<FoldedMessage>& messages) {
  std::unordered_map<std::string, size_t> call_position;  // from the latest assistant with tool calls
  for (FoldedMessage& m : messages) {
    if (m.role == ChatRole::kAssistant && !m.source->tool_calls.empty()) {
      call_position.clear();
      for (size_t k = 0; k < m.source->tool_calls.size(); ++k) {
        const std::string& id = m.source->tool_calls[k].id;
        if (!id.empty()) call_position[id] = k;  // a repeated id keeps its last position, as a dict does
      }
      continue;
    }
    if (m.role != ChatRole::kUser || call_position.empty()) continue;
    std::vector<size_t> slots;  // positions of the tool-result blocks among all blocks
    std::vector<const ChatMessage*> results;
    for (size_t b = 0; b < m.blocks.size(); ++b) {
      if (m.blocks[b]->role == ChatRole::kTool) {
        slots.push_back(b);
        results.push_back(m.blocks[b]);
      }
    }
    if (results.size() < 2) continue;
    const auto position = [&](const ChatMessage* r) {
      const auto it = call_position.find(r->tool_call_id);
      return it == call_position.end() ? size_t{0} : it->second;
    };
    std::stable_sort(results.begin(), results.end(),
                     [&](const ChatMessage* a, const ChatMessage* b) { return position(a) < position(b); });
    for (size_t k = 0; k < slots.size(); ++k) m.blocks[slots[k]] = results[k];
  }
}

bool declares_tools(std::span<const FoldedMessage> messages) {
  return std::any_of(messages.begin(), messages.end(),
                     [](const FoldedMessage& m) { return m.role != ChatRole::kUser && !m.source->tools.empty(); });
}

long last_user_index(std::span<const FoldedMessage> messages) {
  for (size_t i = messages.size(); i > 0; --i) {
    const ChatRole r = messages[i - 1].role;
    if (r == ChatRole::kUser || r == ChatRole::kDeveloper) return static_cast<long>(i - 1);
  }
  return -1;
}

std::vector<FoldedMessage> drop_earlier_turns(std::span<const FoldedMessage> messages) {
  const long last_user = last_user_index(messages);
  std::vector<FoldedMessage> out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatRole r = messages[i].role;
    const bool kept_role =
        r == ChatRole::kSystem || r == ChatRole::kUser || r == ChatRole::kLatestReminder || r == ChatRole::kAssistant;
    if (kept_role || static_cast<long>(i) >= last_user) out.push_back(messages[i]);
  }
  return out;
}

}  // namespace dsv4
