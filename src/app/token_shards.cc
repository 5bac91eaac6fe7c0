#include "app/token_shards.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "io/files.h"
#include "text/utf8.h"

namespace dsv4 {

namespace {

constexpr const char* kFormat = "dsv4-token-shards";

// Where the validation part starts: at (1 − fraction) of the bytes, moved forward to the next line start.
size_t validation_start(std::string_view text, double fraction) {
  size_t cut = size_t(double(text.size()) * (1.0 - fraction));
  if (cut == 0 || cut >= text.size()) return cut;
  const size_t nl = text.find('\n', cut - 1);
  return nl == std::string_view::npos ? text.size() : nl + 1;
}

int dtype_bytes(int64_t vocab_size) { return vocab_size <= 65536 ? 2 : 4; }

std::string shard_name(const std::string& split, size_t i) { return fmt::format("{}-{:05}.bin", split, i); }

Result<nlohmann::ordered_json> write_split(const std::string& dir, const std::string& split, const TokenSplit& s,
                                          int width, int64_t shard_tokens) {
  nlohmann::ordered_json names = nlohmann::ordered_json::array();
  for (size_t begin = 0, i = 0; begin < s.tokens.size() || i == 0; begin += size_t(shard_tokens), ++i) {
    const size_t end = std::min(s.tokens.size(), begin + size_t(shard_tokens));
    std::string bytes;
    bytes.reserve((end - begin) * size_t(width));
    for (size_t t = begin; t < end; ++t)
      for (int b = 0; b < width; ++b) bytes.push_back(char((uint32_t(s.tokens[t]) >> (8 * b)) & 0xff));
    const std::string name = shard_name(split, i);
    DSV4_RETURN_IF_ERROR(write_file_atomically(dir + "/" + name, bytes));
    names.push_back(name);
  }
  return nlohmann::ordered_json{{"tokens", s.tokens.size()}, {"text_bytes", s.text_bytes}, {"shards", names}};
}

Result<TokenSplit> read_split(const std::string& dir, const nlohmann::json& meta, const std::string& split,
                              int width, int64_t vocab_size) {
  const std::string where = fmt::format("{}/meta.json: splits.{}", dir, split);
  const auto& s = meta.at("splits").at(split);
  TokenSplit out;
  const int64_t n = s.at("tokens").get<int64_t>();
  out.text_bytes = s.at("text_bytes").get<int64_t>();
  if (n < 0 || out.text_bytes < 0) return Status::error("{}: negative sizes", where);
  for (const auto& name_json : s.at("shards")) {
    const std::string name = name_json.get<std::string>();
    if (name.empty() || name.find('/') != std::string::npos || name[0] == '.')
      return Status::error("{}: shard name '{}' is not a plain file name", where, name);
    DSV4_ASSIGN_OR_RETURN(const std::string bytes, read_file(dir + "/" + name));
    if (bytes.size() % size_t(width) != 0)
      return Status::error("{}/{}: {} bytes is not a whole number of {}-byte ids", dir, name, bytes.size(), width);
    for (size_t p = 0; p < bytes.size(); p += size_t(width)) {
      uint32_t id = 0;
      for (int b = 0; b < width; ++b) id |= uint32_t(uint8_t(bytes[p + size_t(b)])) << (8 * b);
      if (int64_t(id) >= vocab_size)
        return Status::error("{}/{}: token id {} at index {} is outside the vocabulary ({})", dir, name, id,
                             p / size_t(width), vocab_size);
      out.tokens.push_back(int32_t(id));
    }
  }
  if (int64_t(out.tokens.size()) != n)
    return Status::error("{}: the shards hold {} tokens, meta.json says {}", where, out.tokens.size(), n);
  return out;
}

}  // namespace

Result<TokenShards> prepare_token_shards(std::string_view text, const Tokenizer& tokenizer, const std::string& dir,
                                         const PrepareOptions& options) {
  if (!(options.val_fraction > 0 && options.val_fraction < 1))
    return Status::error("the validation fraction must be in (0, 1), not {}", options.val_fraction);
  if (options.shard_tokens <= 0) return Status::error("shards must hold at least one token");
  if (const size_t valid = utf8_valid_prefix(text); valid != text.size())
    return Status::error("the text is not valid UTF-8 (byte {})", valid);
  const size_t cut = validation_start(text, options.val_fraction);
  const std::string_view parts[2] = {text.substr(0, cut), text.substr(cut)};
  if (parts[0].empty() || parts[1].empty())
    return Status::error("the text ({} bytes) is too short to split into training and validation parts", text.size());
  TokenShards out;
  out.vocab_size = tokenizer.vocab_size();
  TokenSplit* splits[2] = {&out.train, &out.val};
  for (int i = 0; i < 2; ++i) {
    DSV4_ASSIGN_OR_RETURN(splits[i]->tokens, tokenizer.encode_with_bos(parts[i]));
    splits[i]->text_bytes = int64_t(parts[i].size());
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::error("{}: cannot create the directory: {}", dir, ec.message());
  const int width = dtype_bytes(out.vocab_size);
  nlohmann::ordered_json meta;
  meta["format"] = kFormat;
  meta["version"] = 1;
  meta["dtype"] = width == 2 ? "uint16" : "uint32";
  meta["vocab_size"] = out.vocab_size;
  DSV4_ASSIGN_OR_RETURN(meta["splits"]["train"], write_split(dir, "train", out.train, width, options.shard_tokens));
  DSV4_ASSIGN_OR_RETURN(meta["splits"]["val"], write_split(dir, "val", out.val, width, options.shard_tokens));
  DSV4_RETURN_IF_ERROR(write_file_atomically(dir + "/meta.json", meta.dump(1) + "\n"));
  return out;
}

Result<TokenShards> load_token_shards(const std::string& dir) {
  DSV4_ASSIGN_OR_RETURN(const std::string text, read_file(dir + "/meta.json"));
  try {
    const nlohmann::json meta = nlohmann::json::parse(text);
    if (meta.at("format").get<std::string>() != kFormat || meta.at("version").get<int>() != 1)
      return Status::error("{}/meta.json: not a version-1 {} file", dir, kFormat);
    const std::string dtype = meta.at("dtype").get<std::string>();
    if (dtype != "uint16" && dtype != "uint32")
      return Status::error("{}/meta.json: dtype '{}' (expected uint16 or uint32)", dir, dtype);
    TokenShards out;
    out.vocab_size = meta.at("vocab_size").get<int64_t>();
    if (out.vocab_size <= 0 || out.vocab_size > (int64_t(1) << 31))
      return Status::error("{}/meta.json: vocab_size {} is out of range", dir, out.vocab_size);
    const int width = dtype == "uint16" ? 2 : 4;
    DSV4_ASSIGN_OR_RETURN(out.train, read_split(dir, meta, "train", width, out.vocab_size));
    DSV4_ASSIGN_OR_RETURN(out.val, read_split(dir, meta, "val", width, out.vocab_size));
    return out;
  } catch (const nlohmann::json::exception& e) {
    return Status::error("{}/meta.json: {}", dir, e.what());
  }
}

}  // namespace dsv4
