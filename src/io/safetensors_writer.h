// Streaming safetensors writer: the header is written from names, dtypes and shapes alone, then each
// tensor's bytes are appended through a TensorSink, tensors in any order and from several threads at
// once (a sink writes its tensor's byte range with pwrite). Memory stays at one reusable buffer per sink
// however large the file, so multi-GB checkpoints can be produced without holding them.
// Layout: tensors in order of decreasing element size (stable), header padded with spaces to a multiple
// of 8, so every tensor is aligned to its element size. The file appears atomically: a temporary file
// (path + ".tmp") renamed onto `path` by finish(), removed when the writer is dropped unfinished.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "tensor/tensor.h"

namespace dsv4 {

struct SafetensorsTensorInfo {
  std::string name;
  DType dtype;
  Shape shape;
};

class SafetensorsWriter;

// Appends to one tensor of a SafetensorsWriter, in order. Not thread-safe itself; sinks on different
// tensors may run on different threads. The writer must outlive its sinks.
class TensorSink {
 public:
  // Room for the next n bytes of the tensor, valid until the next call; the caller fills all n.
  uint8_t* append(size_t n);
  void write(const void* data, size_t n);
  // Flushes; fails when the tensor did not receive exactly its byte count or a write failed.
  Status close();

 private:
  friend class SafetensorsWriter;
  TensorSink(SafetensorsWriter& writer, size_t index, std::vector<uint8_t>& buffer);
  void flush();

  SafetensorsWriter& writer_;
  size_t index_;
  uint64_t offset_;    // file offset of the next flushed byte
  uint64_t end_;       // file offset where the tensor ends
  uint64_t appended_ = 0;
  std::vector<uint8_t>& buffer_;  // caller's scratch, reused across sinks
  size_t used_ = 0;
  int error_ = 0;  // errno of the first failed write
};

class SafetensorsWriter {
 public:
  static Result<SafetensorsWriter> create(const std::string& path, std::vector<SafetensorsTensorInfo> tensors,
                                          const std::map<std::string, std::string>& metadata = {});
  SafetensorsWriter(SafetensorsWriter&& o) noexcept;
  SafetensorsWriter& operator=(SafetensorsWriter&&) = delete;
  SafetensorsWriter(const SafetensorsWriter&) = delete;
  ~SafetensorsWriter();

  size_t size() const { return tensors_.size(); }
  const SafetensorsTensorInfo& tensor(size_t i) const { return tensors_[i]; }  // in the order given to create
  uint64_t nbytes(size_t i) const { return nbytes_[i]; }
  uint64_t file_bytes() const { return file_bytes_; }

  // The sink of tensor i (once per tensor). `buffer` is scratch the sink flushes from (grown to at least
  // 1 MiB); a thread can reuse one buffer for all its sinks, one at a time.
  TensorSink sink(size_t i, std::vector<uint8_t>& buffer);
  // Checks that every tensor was closed complete, closes the file and renames it onto the final path.
  Status finish();

 private:
  friend class TensorSink;
  SafetensorsWriter() = default;

  std::string path_, tmp_;
  int fd_ = -1;
  std::vector<SafetensorsTensorInfo> tensors_;
  std::vector<uint64_t> offsets_, nbytes_;  // absolute file offsets, by tensor
  std::vector<uint8_t> complete_;           // set by each tensor's sink (distinct bytes: no data race)
  uint64_t file_bytes_ = 0;
};

}  // namespace dsv4
