// Remembers the BPE tokens of pieces already merged. Text repeats its words, so most pieces of a prompt skip
// merging. Shared by all threads that encode with one Tokenizer; bounded by dropping everything when full,
// a policy that costs little because a workload's common pieces come straight back.
#pragma once

#include <cstdint>
#include <functional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dsv4 {

// Lets unordered maps keyed by std::string be searched with a std::string_view, without a copy.
struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class WordCache {
 public:
  // Longer pieces (long numbers are cut to three digits, so these are mostly whitespace runs and rare
  // words) seldom repeat; caching them would only grow the map.
  static constexpr size_t kMaxPieceBytes = 64;
  static constexpr size_t kMaxEntries = size_t(1) << 18;

  // Appends the tokens of piece and returns true if it is cached.
  bool lookup(std::string_view piece, std::vector<int32_t>& out) const;
  void insert(std::string_view piece, std::span<const int32_t> ids);

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::vector<int32_t>, StringViewHash, std::equal_to<>> map_;
};

}  // namespace dsv4
