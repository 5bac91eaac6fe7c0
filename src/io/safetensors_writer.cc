#include "io/safetensors_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

namespace dsv4 {

namespace {

constexpr size_t kSinkBuffer = 1 << 20;

// pwrite until done: a single call may write less than asked.
int pwrite_all(int fd, const uint8_t* p, size_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, p, n, off_t(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += w, n -= size_t(w), offset += uint64_t(w);
  }
  return 0;
}

}  // namespace

TensorSink::TensorSink(SafetensorsWriter& writer, size_t index, std::vector<uint8_t>& buffer)
    : writer_(writer),
      index_(index),
      offset_(writer.offsets_[index]),
      end_(writer.offsets_[index] + writer.nbytes_[index]),
      buffer_(buffer) {
  if (buffer_.size() < kSinkBuffer) buffer_.resize(kSinkBuffer);
}

uint8_t* TensorSink::append(size_t n) {
  if (used_ + n > buffer_.size()) {
    flush();
    if (n > buffer_.size()) buffer_.resize(n);
  }
  uint8_t* p = buffer_.data() + used_;
  used_ += n;
  appended_ += n;
  return p;
}

void TensorSink::write(const void* data, size_t n) {
  if (n) std::memcpy(append(n), data, n);
}

void TensorSink::flush() {
  // Bytes past the tensor's end are dropped here and reported by close().
  const size_t n = size_t(std::min<uint64_t>(used_, end_ - offset_));
  if (!error_ && n) error_ = pwrite_all(writer_.fd_, buffer_.data(), n, offset_);
  offset_ += n;
  used_ = 0;
}

Status TensorSink::close() {
  flush();
  const SafetensorsTensorInfo& t = writer_.tensors_[index_];
  if (error_) return Status::error("{}: tensor '{}': write failed: {}", writer_.tmp_, t.name, std::strerror(error_));
  if (appended_ != writer_.nbytes_[index_])
    return Status::error("{}: tensor '{}' received {} bytes, its shape {} of {} needs {}", writer_.tmp_, t.name,
                         appended_, shape_str(t.shape), dtype_name(t.dtype), writer_.nbytes_[index_]);
  writer_.complete_[index_] = 1;
  return Status::ok();
}

Result<SafetensorsWriter> SafetensorsWriter::create(const std::string& path,
                                                     std::vector<SafetensorsTensorInfo> tensors,
                                                     const std::map<std::string, std::string>& metadata) {
  SafetensorsWriter w;
  w.path_ = path;
  w.tmp_ = path + ".tmp";
  w.tensors_ = std::move(tensors);
  const size_t n = w.tensors_.size();
  w.nbytes_.resize(n);
  std::set<std::string_view> names;
  for (size_t i = 0; i < n; ++i) {
    const SafetensorsTensorInfo& t = w.tensors_[i];
    if (t.name == "__metadata__" || !names.insert(t.name).second)
      return Status::error("{}: tensor name '{}' is reserved or appears twice", path, t.name);
    const auto numel = shape_numel(t.shape);
    if (!numel || uint64_t(*numel) > (UINT64_MAX >> 4))
      return Status::error("{}: tensor '{}': shape {} is invalid or too large", path, t.name, shape_str(t.shape));
    w.nbytes_[i] = uint64_t(*numel) * uint64_t(dtype_size(t.dtype));
  }
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return dtype_size(w.tensors_[a].dtype) > dtype_size(w.tensors_[b].dtype);
  });
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<uint64_t> data_offsets(n);
  uint64_t offset = 0;
  for (size_t i : order) {
    const SafetensorsTensorInfo& t = w.tensors_[i];
    header[t.name] = {
        {"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + w.nbytes_[i]}}};
    data_offsets[i] = offset;
    offset += w.nbytes_[i];
  }
  std::string text = header.dump();
  text.resize((text.size() + 7) / 8 * 8, ' ');
  const uint64_t data_start = 8 + text.size();
  w.offsets_.resize(n);
  for (size_t i = 0; i < n; ++i) w.offsets_[i] = data_start + data_offsets[i];
  w.file_bytes_ = data_start + offset;
  w.complete_.assign(n, 0);

  w.fd_ = ::open(w.tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w.fd_ < 0) return Status::error("{}: cannot create: {}", w.tmp_, std::strerror(errno));
  const uint64_t len = text.size();
  int err = pwrite_all(w.fd_, reinterpret_cast<const uint8_t*>(&len), 8, 0);  // little-endian hosts only
  if (!err) err = pwrite_all(w.fd_, reinterpret_cast<const uint8_t*>(text.data()), text.size(), 8);
  if (!err && ::ftruncate(w.fd_, off_t(w.file_bytes_)) != 0) err = errno;
  if (err) return Status::error("{}: write failed: {}", w.tmp_, std::strerror(err));
  return w;
}

SafetensorsWriter::SafetensorsWriter(SafetensorsWriter&& o) noexcept
    : path_(std::move(o.path_)),
      tmp_(std::move(o.tmp_)),
      fd_(std::exchange(o.fd_, -1)),
      tensors_(std::move(o.tensors_)),
      offsets_(std::move(o.offsets_)),
      nbytes_(std::move(o.nbytes_)),
      complete_(std::move(o.complete_)),
      file_bytes_(o.file_bytes_) {}

SafetensorsWriter::~SafetensorsWriter() {
  if (fd_ < 0) return;
  ::close(fd_);
  std::remove(tmp_.c_str());
}

TensorSink SafetensorsWriter::sink(size_t i, std::vector<uint8_t>& buffer) { return TensorSink(*this, i, buffer); }

Status SafetensorsWriter::finish() {
  for (size_t i = 0; i < tensors_.size(); ++i)
    if (!complete_[i]) return Status::error("{}: tensor '{}' was not written", path_, tensors_[i].name);
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0 || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp_.c_str());
    return Status::error("{}: write failed: {}", path_, std::strerror(err));
  }
  return Status::ok();
}

}  // namespace dsv4
