// Arena: scratch memory for one forward call, released all at once by reset(). After the first call of
// a given shape it serves every request from one block it keeps, so steady-state decode does not touch
// the heap. Pointers stay valid until reset().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace dsv4 {

class Arena {
 public:
  template <typename T>
  T* alloc(size_t n) {
    return static_cast<T*>(alloc_bytes(n * sizeof(T)));
  }
  void reset();
  size_t capacity() const;

 private:
  static constexpr size_t kAlign = 64;
  struct Block {
    std::unique_ptr<uint8_t[]> mem;
    size_t size = 0;
  };
  void* alloc_bytes(size_t n);

  std::vector<Block> blocks_;
  size_t used_ = 0;        // bytes used in blocks_.back()
  size_t total_used_ = 0;  // bytes used in all blocks since reset()
};

}  // namespace dsv4
