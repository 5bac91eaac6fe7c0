#include "text/tokenizer_added_tokens.h"

#include "base/check.h"

namespace dsv4 {

int32_t AddedTokenMatcher::child(int32_t node, uint8_t byte) const {
  for (const auto& [b, index] : nodes_[size_t(node)].children) {
    if (b == byte) return index;
  }
  return -1;
}

void AddedTokenMatcher::add(std::string_view content, int32_t id) {
  DSV4_CHECK(!content.empty());
  can_start_[uint8_t(content[0])] = true;
  int32_t node = 0;
  for (const char c : content) {
    int32_t next = child(node, uint8_t(c));
    if (next < 0) {
      next = int32_t(nodes_.size());
      nodes_[size_t(node)].children.emplace_back(uint8_t(c), next);
      nodes_.emplace_back();
    }
    node = next;
  }
  nodes_[size_t(node)].id = id;
}

std::optional<AddedTokenMatcher::Found> AddedTokenMatcher::find(std::string_view text, size_t from) const {
  for (size_t start = from; start < text.size(); ++start) {
    if (!can_start_[uint8_t(text[start])]) continue;
    std::optional<Found> longest;
    int32_t node = 0;
    for (size_t i = start; i < text.size(); ++i) {
      node = child(node, uint8_t(text[i]));
      if (node < 0) break;
      if (nodes_[size_t(node)].id >= 0) longest = Found{start, i + 1, nodes_[size_t(node)].id};
    }
    if (longest) return longest;
  }
  return std::nullopt;
}

}  // namespace dsv4
