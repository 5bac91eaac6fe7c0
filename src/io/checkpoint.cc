#include "io/checkpoint.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace dsv4 {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

Result<std::vector<std::string>> shards_from_index(const std::string& index_path,
                                                   std::map<std::string, std::string>& weight_map) {
  std::ifstream in(index_path, std::ios::binary);
  if (!in) return Status::error("{}: cannot open", index_path);
  std::stringstream ss;
  ss << in.rdbuf();
  const json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::error("{}: not a well-formed JSON object", index_path);
  const auto wm = j.find("weight_map");
  if (wm == j.end() || !wm->is_object()) return Status::error("{}: missing object 'weight_map'", index_path);
  std::set<std::string> files;
  for (const auto& [name, file] : wm->items()) {
    if (!file.is_string()) return Status::error("{}: weight_map['{}'] is not a string", index_path, name);
    const std::string f = file.get<std::string>();
    if (f.empty() || f.find('/') != std::string::npos || f == "." || f == "..")
      return Status::error("{}: weight_map['{}'] = '{}' is not a plain file name", index_path, name, f);
    weight_map[name] = f;
    files.insert(f);
  }
  if (files.empty()) return Status::error("{}: weight_map is empty", index_path);
  return std::vector<std::string>(files.begin(), files.end());
}

}  // namespace

Result<Checkpoint> Checkpoint::open(const std::string& path) {
  Checkpoint c;
  c.path_ = path;
  std::error_code ec;
  std::map<std::string, std::string> weight_map;  // empty unless sharded
  std::vector<std::string> files;
  if (fs::is_directory(path, ec)) {
    const fs::path index = fs::path(path) / "model.safetensors.index.json";
    const fs::path single = fs::path(path) / "model.safetensors";
    if (fs::exists(index, ec)) {
      DSV4_ASSIGN_OR_RETURN(auto names, shards_from_index(index.string(), weight_map));
      for (const auto& n : names) files.push_back((fs::path(path) / n).string());
    } else if (fs::exists(single, ec)) {
      files.push_back(single.string());
    } else {
      return Status::error("{}: no model.safetensors.index.json or model.safetensors in this directory", path);
    }
  } else {
    files.push_back(path);
  }

  for (const auto& f : files) {
    DSV4_ASSIGN_OR_RETURN(SafetensorsFile sf, SafetensorsFile::open(f));
    c.files_.push_back(std::move(sf));
  }
  for (size_t i = 0; i < c.files_.size(); ++i) {
    const std::string fname = fs::path(c.files_[i].path()).filename().string();
    for (const TensorView& t : c.files_[i].tensors()) {
      if (!weight_map.empty()) {
        const auto it = weight_map.find(t.name);
        if (it == weight_map.end())
          return Status::error("{}: tensor '{}' is not listed in model.safetensors.index.json", c.files_[i].path(),
                               t.name);
        if (it->second != fname)
          return Status::error("{}: tensor '{}' is indexed in '{}' but found here", c.files_[i].path(), t.name,
                               it->second);
      }
      if (!c.index_.emplace(t.name, std::make_pair(i, &t)).second)
        return Status::error("{}: tensor '{}' appears in two files", c.files_[i].path(), t.name);
    }
  }
  for (const auto& [name, file] : weight_map)
    if (!c.index_.count(name))
      return Status::error("{}: tensor '{}' is missing (model.safetensors.index.json places it there)",
                           (fs::path(path) / file).string(), name);
  return c;
}

const TensorView* Checkpoint::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second.second;
}

const std::string& Checkpoint::file_of(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? path_ : files_[it->second.first].path();
}

std::vector<const TensorView*> Checkpoint::tensors() const {
  std::vector<const TensorView*> out;
  for (const auto& [name, v] : index_) out.push_back(v.second);
  return out;
}

uint64_t Checkpoint::file_bytes() const {
  uint64_t n = 0;
  for (const auto& f : files_) n += f.file_bytes();
  return n;
}

}  // namespace dsv4
