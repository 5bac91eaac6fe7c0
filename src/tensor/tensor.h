// DType, Shape and TensorView: a non-owning, named view of tensor bytes (usually inside an mmap).
// The dtype names are the safetensors ones. I8 is stored as is; whether it holds packed FP4 is decided
// by the model (tensor_list.cc), not here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsv4 {

enum class DType : uint8_t { kF32, kBF16, kF16, kF64, kI64, kI32, kI16, kI8, kU8, kBool, kF8E4M3, kF8E8M0 };

std::string_view dtype_name(DType t);
std::optional<DType> dtype_from_name(std::string_view name);
int dtype_size(DType t);  // bytes per stored element

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);  // "[2, 3]"

// Number of elements, or nullopt when it does not fit in int64 (or a dimension is negative).
std::optional<int64_t> shape_numel(const Shape& s);

struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  Shape shape;
  const uint8_t* data = nullptr;  // dtype_size(dtype) * numel bytes, little-endian, not necessarily aligned
  int64_t nbytes = 0;

  int64_t dim(int i) const { return shape[size_t(i)]; }
  int64_t numel() const { return nbytes / dtype_size(dtype); }
};

}  // namespace dsv4
