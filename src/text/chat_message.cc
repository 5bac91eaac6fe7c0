// Names of chat roles and tasks and the tokens of tasks (chat-format.md §1, §2, §5.5).
#include "text/chat_message.h"

#include <array>
#include <utility>

namespace dsv4 {
namespace {

constexpr std::array<std::pair<ChatRole, std::string_view>, 6> kRoleNames = {{
    {ChatRole::kSystem, "system"},
    {ChatRole::kDeveloper, "developer"},
    {ChatRole::kUser, "user"},
    {ChatRole::kAssistant, "assistant"},
    {ChatRole::kTool, "tool"},
    {ChatRole::kLatestReminder, "latest_reminder"},
}};

struct TaskEntry {
  ChatTask task;
  std::string_view name;
  std::string_view token;
};

constexpr std::array<TaskEntry, 6> kTasks = {{
    {ChatTask::kAction, "action", "<｜action｜>"},
    {ChatTask::kQuery, "query", "<｜query｜>"},
    {ChatTask::kAuthority, "authority", "<｜authority｜>"},
    {ChatTask::kDomain, "domain", "<｜domain｜>"},
    {ChatTask::kTitle, "title", "<｜title｜>"},
    {ChatTask::kReadUrl, "read_url", "<｜read_url｜>"},
}};

}  // namespace

std::optional<ChatRole> chat_role_from_name(std::string_view name) {
  for (const auto& [r, n] : kRoleNames) {
    if (n == name) return r;
  }
  return std::nullopt;
}

std::optional<ChatTask> chat_task_from_name(std::string_view name) {
  for (const TaskEntry& e : kTasks) {
    if (e.name == name) return e.task;
  }
  return std::nullopt;
}

std::string_view chat_task_token(ChatTask task) {
  for (const TaskEntry& e : kTasks) {
    if (e.task == task) return e.token;
  }
  return "";
}

}  // namespace dsv4
