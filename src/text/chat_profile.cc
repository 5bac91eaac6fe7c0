// The chat-profile registry and the lookups over it; the tables themselves live in chat_profile_<ver>.cc.
#include "text/chat_profile.h"

#include <array>

#include "text/json_text.h"

namespace dsv4 {
namespace {

std::string known_names() {
  std::string names;
  for (const ChatProfile* p : chat_profiles()) names += fmt::format("{}{}", names.empty() ? "" : ", ", p->name);
  return names;
}

}  // namespace

std::span<const ChatProfile* const> chat_profiles() {
  static const std::array<const ChatProfile*, 2> kProfiles = {&chat_profile_v4(), &chat_profile_v4_0731()};
  return kProfiles;
}

Result<const ChatProfile*> find_chat_profile(std::string_view name) {
  for (const ChatProfile* p : chat_profiles()) {
    if (p->name == name) return p;
  }
  return Status::error("unknown chat profile {} (known: {})", json_string_preview(name), known_names());
}

Result<std::string_view> reasoning_effort_prefix(const ChatProfile& profile, const std::optional<std::string>& effort) {
  if (!effort) return profile.default_effort_prefix;
  std::string accepted = "null";
  for (const ReasoningEffortLevel& level : profile.efforts) {
    if (level.name == *effort) return level.prefix;
    accepted += fmt::format(", {}", level.name);
  }
  return Status::error("reasoning_effort {} is not valid for chat profile {} (expected {})",
                       json_string_preview(*effort), profile.name, accepted);
}

}  // namespace dsv4
