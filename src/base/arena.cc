#include "base/arena.h"

#include <algorithm>

namespace dsv4 {

void* Arena::alloc_bytes(size_t n) {
  n = (std::max<size_t>(n, 1) + kAlign - 1) / kAlign * kAlign;
  if (blocks_.empty() || used_ + n > blocks_.back().size) {
    const size_t size = std::max(n, blocks_.empty() ? size_t(1) << 20 : blocks_.back().size * 2);
    // new[] of uint8_t is only 16-byte aligned; over-allocate and align by hand.
    Block b{std::unique_ptr<uint8_t[]>(new uint8_t[size + kAlign]), size};
    blocks_.push_back(std::move(b));
    used_ = 0;
  }
  uint8_t* base = blocks_.back().mem.get();
  const uintptr_t aligned = (reinterpret_cast<uintptr_t>(base) + kAlign - 1) / kAlign * kAlign;
  void* p = reinterpret_cast<uint8_t*>(aligned) + used_;
  used_ += n;
  total_used_ += n;
  return p;
}

void Arena::reset() {
  if (blocks_.size() > 1) {  // consolidate so the next pass of the same shape fits in one block
    const size_t size = total_used_;
    blocks_.clear();
    blocks_.push_back(Block{std::unique_ptr<uint8_t[]>(new uint8_t[size + kAlign]), size});
  }
  used_ = 0;
  total_used_ = 0;
}

size_t Arena::capacity() const {
  size_t n = 0;
  for (const auto& b : blocks_) n += b.size;
  return n;
}

}  // namespace dsv4
