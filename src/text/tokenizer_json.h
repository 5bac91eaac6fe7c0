// Reads what the tokenizer needs from a Hugging Face tokenizer.json and tokenizer_config.json into plain
// structs. Features the tokenizer does not implement (normalizers, byte fallback, stripping added tokens,
// ByteLevel's own regex, ...) are rejected with a message naming the field, rather than tokenizing
// differently from the reference.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "text/tokenizer_pre_split.h"

namespace dsv4 {

struct AddedTokenSpec {
  int32_t id;
  std::string content;  // raw text, matched and decoded as is
  bool special;
};

struct SplitSpec {
  std::string pattern;
  bool is_regex;  // {"Regex": ...}; otherwise {"String": ...}, a literal
  SplitBehavior behavior;
  bool invert;
};

struct TokenizerSpec {
  std::vector<std::pair<std::string, int32_t>> vocab;       // model.vocab, in byte-level text
  std::vector<std::pair<std::string, std::string>> merges;  // model.merges in rank order, byte-level text
  std::vector<AddedTokenSpec> added_tokens;
  std::vector<SplitSpec> splits;  // the pre-tokenizer's Split steps, which run before its final ByteLevel step
};

// add_eos_token must be false (or absent): appending EOS is not implemented.
struct TokenizerConfigSpec {
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  bool add_bos_token = false;
};

Result<TokenizerSpec> read_tokenizer_json(const std::string& path);
Result<TokenizerConfigSpec> read_tokenizer_config(const std::string& path);

}  // namespace dsv4
