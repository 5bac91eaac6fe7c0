// safetensors files: an 8-byte little-endian header length, a JSON header, then the raw tensor bytes.
// The header is validated strictly before any tensor is used: known dtypes, shapes whose byte size equals
// the data_offsets span, spans inside the file, tensors that tile the data region without overlaps or
// gaps (as the official library demands), a sane header length. Errors name the file and the tensor.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "io/mapped_file.h"
#include "tensor/tensor.h"

namespace dsv4 {

inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100ull << 20;

struct SafetensorsHeader {
  std::vector<TensorView> tensors;  // in file order of their data; `data` points into the given buffer
  std::map<std::string, std::string> metadata;
};

// Parses and validates the header of a complete safetensors image `bytes[0, size)`.
// `path` only labels error messages.
Result<SafetensorsHeader> parse_safetensors(const uint8_t* bytes, size_t size, const std::string& path);

class SafetensorsFile {
 public:
  static Result<SafetensorsFile> open(const std::string& path);

  const std::string& path() const { return file_->path(); }
  const std::vector<TensorView>& tensors() const { return header_.tensors; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  const TensorView* find(std::string_view name) const;
  uint64_t file_bytes() const { return file_->size(); }

 private:
  std::unique_ptr<MappedFile> file_;  // heap-held so views stay valid when the SafetensorsFile moves
  SafetensorsHeader header_;
  std::map<std::string, size_t, std::less<>> index_;
};

struct SafetensorsEntry {
  std::string name;
  DType dtype;
  Shape shape;
  std::vector<uint8_t> bytes;
};

// Writes in-memory tensors through SafetensorsWriter (safetensors_writer.h): atomically, every tensor
// aligned.
Status write_safetensors(const std::string& path, const std::vector<SafetensorsEntry>& tensors,
                         const std::map<std::string, std::string>& metadata = {});

}  // namespace dsv4
