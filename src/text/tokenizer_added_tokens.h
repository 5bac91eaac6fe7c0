// Finds added tokens (strings such as <｜User｜> that map to one id whatever surrounds them) in text by exact
// match: the leftmost occurrence, and the longest token at that position, as HF's AddedVocabulary does with
// its LeftmostLongest Aho-Corasick automaton. A byte trie is enough for the few hundred tokens a model has.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace dsv4 {

class AddedTokenMatcher {
 public:
  struct Found {
    size_t begin;
    size_t end;
    int32_t id;
  };

  // Adding the same content again replaces its id. PRECONDITIONS: !content.empty().
  void add(std::string_view content, int32_t id);

  // The first match that starts at or after `from`.
  std::optional<Found> find(std::string_view text, size_t from) const;

 private:
  struct Node {
    int32_t id = -1;                                    // the token ending here, if any
    std::vector<std::pair<uint8_t, int32_t>> children;  // (byte, node index)
  };

  int32_t child(int32_t node, uint8_t byte) const;

  std::vector<Node> nodes_ = std::vector<Node>(1);  // nodes_[0] is the root
  std::array<bool, 256> can_start_{};
};

}  // namespace dsv4
