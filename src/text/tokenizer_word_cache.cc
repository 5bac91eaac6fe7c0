#include "text/tokenizer_word_cache.h"

#include <mutex>

namespace dsv4 {

bool WordCache::lookup(std::string_view piece, std::vector<int32_t>& out) const {
  std::shared_lock lock(mutex_);
  const auto it = map_.find(piece);
  if (it == map_.end()) return false;
  out.insert(out.end(), it->second.begin(), it->second.end());
  return true;
}

void WordCache::insert(std::string_view piece, std::span<const int32_t> ids) {
  std::unique_lock lock(mutex_);
  if (map_.size() >= kMaxEntries) map_.clear();
  map_.try_emplace(std::string(piece), ids.begin(), ids.end());
}

}  // namespace dsv4
