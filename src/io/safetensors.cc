#include "io/safetensors.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "io/safetensors_writer.h"

namespace dsv4 {

using json = nlohmann::json;

namespace {

Result<Shape> parse_shape(const json& j) {
  if (!j.is_array()) return Status::error("'shape' is not an array");
  Shape s;
  for (const auto& d : j) {
    if (!d.is_number_unsigned()) return Status::error("'shape' holds a value that is not a non-negative integer");
    s.push_back(int64_t(std::min<uint64_t>(d.get<uint64_t>(), uint64_t(INT64_MAX))));
  }
  return s;
}

Status parse_entry(const std::string& name, const json& j, uint64_t data_size, TensorView& t,
                   uint64_t& begin) {
  if (!j.is_object()) return Status::error("entry is not a JSON object");
  const auto dt = j.find("dtype");
  const auto sh = j.find("shape");
  const auto off = j.find("data_offsets");
  if (dt == j.end() || sh == j.end() || off == j.end())
    return Status::error("entry needs 'dtype', 'shape' and 'data_offsets'");
  if (!dt->is_string()) return Status::error("'dtype' is not a string");
  const auto dtype = dtype_from_name(dt->get<std::string>());
  if (!dtype) return Status::error("unsupported dtype '{}'", dt->get<std::string>());
  DSV4_ASSIGN_OR_RETURN(Shape shape, parse_shape(*sh));
  if (!off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
      !(*off)[1].is_number_unsigned())
    return Status::error("'data_offsets' is not a pair of non-negative integers");
  begin = (*off)[0].get<uint64_t>();
  const uint64_t end = (*off)[1].get<uint64_t>();
  if (begin > end) return Status::error("data_offsets [{}, {}] are reversed", begin, end);
  if (end > data_size)
    return Status::error("data_offsets [{}, {}] run past the end of the data ({} bytes)", begin, end, data_size);
  const auto numel = shape_numel(shape);
  const uint64_t elem = uint64_t(dtype_size(*dtype));
  if (!numel || uint64_t(*numel) > UINT64_MAX / elem || uint64_t(*numel) * elem != end - begin)
    return Status::error("shape {} of {} needs {} bytes but data_offsets [{}, {}] hold {}", shape_str(shape),
                         dtype_name(*dtype), numel ? fmt::to_string(uint64_t(*numel) * elem) : "too many",
                         begin, end, end - begin);
  t.name = name;
  t.dtype = *dtype;
  t.shape = std::move(shape);
  t.nbytes = int64_t(end - begin);
  return Status::ok();
}

}  // namespace

Result<SafetensorsHeader> parse_safetensors(const uint8_t* bytes, size_t size, const std::string& path) {
  if (size < 8) return Status::error("{}: file too short for a safetensors header ({} bytes)", path, size);
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes, 8);  // little-endian hosts only (x86-64, arm64)
  if (header_len > kMaxSafetensorsHeaderBytes)
    return Status::error("{}: header length {} exceeds the {} byte limit (not a safetensors file?)", path,
                         header_len, kMaxSafetensorsHeaderBytes);
  if (header_len > size - 8)
    return Status::error("{}: header length {} runs past the end of the file ({} bytes): truncated?", path,
                         header_len, size);
  const char* text = reinterpret_cast<const char*>(bytes + 8);
  const json j = json::parse(text, text + header_len, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::error("{}: header is not well-formed JSON", path);
  if (!j.is_object()) return Status::error("{}: header is not a JSON object", path);

  const uint64_t data_size = size - 8 - header_len;
  const uint8_t* data = bytes + 8 + header_len;
  SafetensorsHeader h;
  std::vector<uint64_t> begins;
  for (const auto& [name, entry] : j.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) return Status::error("{}: __metadata__ is not an object", path);
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) return Status::error("{}: __metadata__ value '{}' is not a string", path, k);
        h.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    TensorView t;
    uint64_t begin = 0;
    DSV4_RETURN_IF_ERROR(parse_entry(name, entry, data_size, t, begin)
                             .with_context(fmt::format("{}: tensor '{}': ", path, name)));
    t.data = data + begin;
    h.tensors.push_back(std::move(t));
    begins.push_back(begin);
  }

  // The tensors must tile [0, data_size) exactly: sorted by offset, each starts where the previous ended.
  std::vector<size_t> order(h.tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return begins[a] != begins[b] ? begins[a] < begins[b] : h.tensors[a].nbytes < h.tensors[b].nbytes;
  });
  uint64_t cursor = 0;
  const TensorView* prev = nullptr;
  for (size_t i : order) {
    const TensorView& t = h.tensors[i];
    if (begins[i] < cursor)
      return Status::error("{}: tensor '{}' overlaps tensor '{}' (data_offsets start {} < {})", path, t.name,
                           prev->name, begins[i], cursor);
    if (begins[i] > cursor)
      return Status::error("{}: tensor '{}': gap of {} bytes before its data (offset {})", path, t.name,
                           begins[i] - cursor, begins[i]);
    cursor = begins[i] + uint64_t(t.nbytes);
    prev = &t;
  }
  if (cursor != data_size)
    return Status::error("{}: {} bytes after the last tensor are not described by the header", path,
                         data_size - cursor);
  std::vector<TensorView> sorted;
  sorted.reserve(order.size());
  for (size_t i : order) sorted.push_back(std::move(h.tensors[i]));
  h.tensors = std::move(sorted);
  return h;
}

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  DSV4_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path));
  SafetensorsFile f;
  f.file_ = std::make_unique<MappedFile>(std::move(mapped));
  DSV4_ASSIGN_OR_RETURN(f.header_, parse_safetensors(f.file_->data(), f.file_->size(), path));
  for (size_t i = 0; i < f.header_.tensors.size(); ++i) f.index_.emplace(f.header_.tensors[i].name, i);
  return f;
}

const TensorView* SafetensorsFile::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

Status write_safetensors(const std::string& path, const std::vector<SafetensorsEntry>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  std::vector<SafetensorsTensorInfo> infos;
  for (const SafetensorsEntry& t : tensors) {
    const auto numel = shape_numel(t.shape);
    if (!numel || uint64_t(*numel) * uint64_t(dtype_size(t.dtype)) != t.bytes.size())
      return Status::error("{}: tensor '{}': {} bytes do not match shape {} of {}", path, t.name,
                           t.bytes.size(), shape_str(t.shape), dtype_name(t.dtype));
    infos.push_back({t.name, t.dtype, t.shape});
  }
  DSV4_ASSIGN_OR_RETURN(SafetensorsWriter w, SafetensorsWriter::create(path, std::move(infos), metadata));
  std::vector<uint8_t> buffer;
  for (size_t i = 0; i < tensors.size(); ++i) {
    TensorSink sink = w.sink(i, buffer);
    sink.write(tensors[i].bytes.data(), tensors[i].bytes.size());
    DSV4_RETURN_IF_ERROR(sink.close());
  }
  return w.finish();
}

}  // namespace dsv4
