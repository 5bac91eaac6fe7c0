// A growable scratch buffer whose data starts on a 64-byte boundary. std::vector's storage comes from
// malloc, which aligns large blocks to 16 bytes only: every 64-byte vector load from it would then
// straddle two cache lines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace dsv4 {

template <typename T>
class AlignedBuffer {
 public:
  // At least n elements; the contents are kept only while the buffer does not grow.
  T* get(size_t n) {
    if (n > capacity_) {
      storage_ = std::make_unique<unsigned char[]>(n * sizeof(T) + kAlign);
      capacity_ = n;
    }
    const uintptr_t p = reinterpret_cast<uintptr_t>(storage_.get());
    return reinterpret_cast<T*>((p + kAlign - 1) & ~uintptr_t(kAlign - 1));
  }

 private:
  static constexpr size_t kAlign = 64;
  std::unique_ptr<unsigned char[]> storage_;
  size_t capacity_ = 0;
};

}  // namespace dsv4
