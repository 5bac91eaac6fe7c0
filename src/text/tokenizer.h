// The DeepSeek byte-level BPE tokenizer, loaded from a Hugging Face tokenizer.json: text → token ids → text.
//
// encode: added tokens are cut out of the text first (the special ones, then the others; each leftmost and
// longest, in HF's AddedVocabulary order); the text between them goes through the pre-tokenizer's Split
// steps (tokenizer_pre_split.h) and BPE merges within each piece (tokenizer_bpe.h). encode never adds BOS:
// encode_with_bos() does, when tokenizer_config.json's add_bos_token asks for it.
// decode: the bytes of each id (its byte-level text decoded, or an added token's content as is), joined, with
// ill-formed UTF-8 replaced by U+FFFD as HF does. StreamDecoder (stream_decoder.h) does the same incrementally.
//
// Follows HF tokenizers (Rust) where it and the JavaScript reference used by the parity test disagree; see
// tokenizer_regex.h for the known cases (U+0085, U+FEFF, characters newer than PCRE2's Unicode 14). A loaded Tokenizer
// is immutable apart from add_special_tokens(), which must happen before it is shared; encode and decode may then run
// on many threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "text/tokenizer_added_tokens.h"
#include "text/tokenizer_bpe.h"
#include "text/tokenizer_pre_split.h"
#include "text/tokenizer_word_cache.h"

namespace dsv4 {

struct TokenizerSpec;
struct TokenizerConfigSpec;

class Tokenizer {
 public:
  // tokenizer_config_path may be empty: then there is no BOS or EOS (ids -1) and add_bos() is false.
  static Result<Tokenizer> load(const std::string& tokenizer_json_path, const std::string& tokenizer_config_path = "");

  // Fails on text that is not valid UTF-8, naming the first bad byte.
  Result<std::vector<int32_t>> encode(std::string_view text) const;
  // encode(), with bos_id() in front when add_bos() is true: the ids a model should see for a document.
  Result<std::vector<int32_t>> encode_with_bos(std::string_view text) const;

  // Fails on an id that is not a token.
  Result<std::string> decode(std::span<const int32_t> ids) const;
  // The raw bytes a token stands for; a piece may be part of a UTF-8 character.
  Result<std::string_view> piece(int32_t id) const;

  // The id of a token as tokenizer.json writes it: an added token's content, or a vocabulary entry in
  // byte-level text (" the" is written "Ġthe").
  std::optional<int32_t> token_id(std::string_view token) const;

  // Makes each string one special token, matched before anything else (V4's <think>, </think>, ｜DSML｜, ...).
  // An added token keeps its id; a string the vocabulary holds becomes special under its id; any other
  // string takes the next free id, in order. Call before sharing the tokenizer between threads.
  Status add_special_tokens(const std::vector<std::string>& tokens);

  int32_t bos_id() const { return bos_id_; }
  int32_t eos_id() const { return eos_id_; }
  bool add_bos() const { return add_bos_; }
  // One more than the largest id; the model's embedding table may be larger (padded).
  int64_t vocab_size() const { return int64_t(pieces_.size()); }

 private:
  struct EncodeScratch;
  enum AddedKind { kSpecial, kOtherAdded, kAddedKinds };
  enum class TokenKind : uint8_t { kUnused, kModel, kAdded };  // kUnused: an id tokenizer.json skips

  Tokenizer() = default;
  Status init_vocab(const TokenizerSpec& spec);
  Status init_bpe(const TokenizerSpec& spec);
  Status init_pre_splitter(const TokenizerSpec& spec);
  Status init_added_tokens(const TokenizerSpec& spec);
  Status init_config(const TokenizerConfigSpec& config);
  void register_added_token(AddedKind kind, const std::string& content, int32_t id);

  // Cuts out the added tokens of `kind` and later kinds, encoding the text between them.
  Status encode_added(std::string_view text, int kind, EncodeScratch& scratch, std::vector<int32_t>& out) const;
  Status encode_ordinary(std::string_view text, EncodeScratch& scratch, std::vector<int32_t>& out) const;
  void encode_piece(std::string_view piece, EncodeScratch& scratch, std::vector<int32_t>& out) const;

  std::vector<std::string> pieces_;  // [vocab_size] raw bytes of each id
  std::vector<TokenKind> kinds_;     // [vocab_size]
  std::unordered_map<std::string, int32_t, StringViewHash, std::equal_to<>> token_ids_;  // as token_id()
  std::array<AddedTokenMatcher, kAddedKinds> added_;
  PreSplitter pre_splitter_;
  BpeModel bpe_;
  std::unique_ptr<WordCache> cache_ = std::make_unique<WordCache>();
  int32_t bos_id_ = -1;
  int32_t eos_id_ = -1;
  bool add_bos_ = false;
};

}  // namespace dsv4
