// A growable scratch buffer whose data starts on a 64-byte boundary. std::vector's storage comes from
// malloc, which aligns large blocks to 16 bytes only: every 64-byte vector load from it would then
// straddle two cache lines.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace dsv4 {

template <typename T>
class AlignedBuffer {
 public:
  // At least n elements; the contents are kept only while the buffer does not grow. It starts at 16 KiB
  // and grows by half at least, so a size that creeps up (scores over a context that gains a token per
  // step) reallocates a logarithmic number of times, not every step.
  T* get(size_t n) {
    if (n > capacity_) {
      capacity_ = std::max({n, capacity_ + capacity_ / 2, kMinBytes / sizeof(T)});
      storage_ = std::make_unique<unsigned char[]>(capacity_ * sizeof(T) + kAlign);
    }
    const uintptr_t p = reinterpret_cast<uintptr_t>(storage_.get());
    return reinterpret_cast<T*>((p + kAlign - 1) & ~uintptr_t(kAlign - 1));
  }

 private:
  static constexpr size_t kAlign = 64, kMinBytes = 16384;
  std::unique_ptr<unsigned char[]> storage_;
  size_t capacity_ = 0;
};

}  // namespace dsv4
