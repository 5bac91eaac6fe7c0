// A checkpoint: one namespace of tensor names over one or more safetensors files. Opens either a single
// file, or a directory holding `model.safetensors.index.json` (sharded, as the official releases are) or
// a single `model.safetensors`. Everything stays memory-mapped.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "io/safetensors.h"

namespace dsv4 {

class Checkpoint {
 public:
  static Result<Checkpoint> open(const std::string& path);

  const TensorView* find(std::string_view name) const;
  // The file a tensor lives in, for error messages.
  const std::string& file_of(std::string_view name) const;
  std::vector<const TensorView*> tensors() const;
  uint64_t file_bytes() const;  // sum of the files' sizes
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<SafetensorsFile> files_;
  std::map<std::string, std::pair<size_t, const TensorView*>, std::less<>> index_;  // name -> (file, view)
};

}  // namespace dsv4
