// Building a Tokenizer from tokenizer.json and tokenizer_config.json, and registering extra special tokens.
#include <algorithm>

#include "text/byte_level.h"
#include "text/tokenizer.h"
#include "text/tokenizer_json.h"
#include "text/utf8.h"

namespace dsv4 {

namespace {
// Far above any real vocabulary; stops a corrupt id from sizing the tables.
constexpr int64_t kMaxVocabSize = int64_t(1) << 24;
}  // namespace

Result<Tokenizer> Tokenizer::load(const std::string& tokenizer_json_path, const std::string& tokenizer_config_path) {
  DSV4_ASSIGN_OR_RETURN(const TokenizerSpec spec, read_tokenizer_json(tokenizer_json_path));
  Tokenizer t;
  // The BPE is built before the added tokens join token_ids_: merges refer to model.vocab alone.
  Status st = t.init_vocab(spec);
  if (st) st = t.init_bpe(spec);
  if (st) st = t.init_added_tokens(spec);
  if (st) st = t.init_pre_splitter(spec);
  if (!st) return st.with_context(tokenizer_json_path + ": ");
  if (!tokenizer_config_path.empty()) {
    DSV4_ASSIGN_OR_RETURN(const TokenizerConfigSpec config, read_tokenizer_config(tokenizer_config_path));
    DSV4_RETURN_IF_ERROR(t.init_config(config).with_context(tokenizer_config_path + ": "));
  }
  return t;
}

Status Tokenizer::init_vocab(const TokenizerSpec& spec) {
  int64_t max_id = -1;
  for (const auto& [token, id] : spec.vocab) max_id = std::max<int64_t>(max_id, id);
  for (const AddedTokenSpec& a : spec.added_tokens) max_id = std::max<int64_t>(max_id, a.id);
  if (max_id < 0) return Status::error("the vocabulary is empty");
  if (max_id >= kMaxVocabSize) return Status::error("token id {} is beyond the {} ids allowed", max_id, kMaxVocabSize);
  pieces_.assign(size_t(max_id + 1), std::string());
  kinds_.assign(size_t(max_id + 1), TokenKind::kUnused);
  token_ids_.reserve(spec.vocab.size() + spec.added_tokens.size());
  for (const auto& [token, id] : spec.vocab) {
    if (kinds_[size_t(id)] != TokenKind::kUnused)
      return Status::error("model.vocab gives id {} to two tokens, one of them '{}'", id, token);
    // HF's ByteLevel decoder emits a token holding characters outside the alphabet as its raw text.
    pieces_[size_t(id)] = byte_level_decode(token).value_or(token);
    kinds_[size_t(id)] = TokenKind::kModel;
    token_ids_.emplace(token, id);
  }
  return Status::ok();
}

// token_ids_ holds model.vocab alone at this point, which is what merges refer to.
Status Tokenizer::init_bpe(const TokenizerSpec& spec) {
  std::array<int32_t, 256> byte_tokens{};
  for (int b = 0; b < 256; ++b) {
    const std::string text = byte_level_encode(std::string(1, char(b)));
    const auto id = token_id(text);
    if (!id)
      return Status::error("model.vocab has no token for byte 0x{:02x} ('{}'); byte-level BPE needs all 256", b, text);
    byte_tokens[size_t(b)] = *id;
  }
  std::vector<BpeModel::Merge> merges;
  merges.reserve(spec.merges.size());
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto& [left, right] = spec.merges[rank];
    const std::string joined = left + right;
    const auto l = token_id(left), r = token_id(right), m = token_id(joined);
    if (!l || !r || !m) {
      const std::string& missing = !l ? left : !r ? right : joined;
      return Status::error("model.merges[{}] ('{}' '{}'): '{}' is not in model.vocab", rank, left, right, missing);
    }
    merges.push_back({*l, *r, *m});
  }
  bpe_ = BpeModel(byte_tokens, merges);
  return Status::ok();
}

void Tokenizer::register_added_token(AddedKind kind, const std::string& content, int32_t id) {
  if (size_t(id) == pieces_.size()) {
    pieces_.emplace_back();
    kinds_.push_back(TokenKind::kUnused);
  }
  pieces_[size_t(id)] = content;
  kinds_[size_t(id)] = TokenKind::kAdded;
  token_ids_.insert_or_assign(content, id);
  added_[kind].add(content, id);
}

Status Tokenizer::init_added_tokens(const TokenizerSpec& spec) {
  for (const AddedTokenSpec& a : spec.added_tokens) {
    if (!is_valid_utf8(a.content))
      return Status::error("added token {} is not valid UTF-8", a.id);
    register_added_token(a.special ? kSpecial : kOtherAdded, a.content, a.id);
  }
  return Status::ok();
}

Status Tokenizer::init_pre_splitter(const TokenizerSpec& spec) {
  std::vector<SplitStep> steps;
  for (size_t i = 0; i < spec.splits.size(); ++i) {
    const SplitSpec& s = spec.splits[i];
    auto regex = s.is_regex ? TokenizerRegex::compile(s.pattern) : TokenizerRegex::compile_literal(s.pattern);
    if (!regex) return regex.status().with_context(fmt::format("pre_tokenizer Split {}: ", i));
    steps.push_back({std::move(regex).value(), s.behavior, s.invert});
  }
  pre_splitter_ = PreSplitter(std::move(steps));
  return Status::ok();
}

Status Tokenizer::init_config(const TokenizerConfigSpec& config) {
  const auto resolve = [this](const std::optional<std::string>& token, const char* key, int32_t& id) {
    if (!token) return Status::ok();
    const auto found = token_id(*token);
    if (!found) return Status::error("{} '{}' is not a token of tokenizer.json", key, *token);
    id = *found;
    return Status::ok();
  };
  DSV4_RETURN_IF_ERROR(resolve(config.bos_token, "bos_token", bos_id_));
  DSV4_RETURN_IF_ERROR(resolve(config.eos_token, "eos_token", eos_id_));
  if (config.add_bos_token && bos_id_ < 0) return Status::error("add_bos_token is true but there is no bos_token");
  add_bos_ = config.add_bos_token;
  return Status::ok();
}

Status Tokenizer::add_special_tokens(const std::vector<std::string>& tokens) {
  // All are checked before any is added, so a failed call changes nothing.
  for (const std::string& token : tokens) {
    if (token.empty() || !is_valid_utf8(token))
      return Status::error("add_special_tokens: '{}' is not a non-empty UTF-8 string", token);
  }
  if (vocab_size() + int64_t(tokens.size()) > kMaxVocabSize)
    return Status::error("add_special_tokens: {} more tokens would pass {} ids", tokens.size(), kMaxVocabSize);
  for (const std::string& token : tokens) {
    const auto it = token_ids_.find(token);
    if (it == token_ids_.end()) {
      register_added_token(kSpecial, token, int32_t(vocab_size()));
    } else if (kinds_[size_t(it->second)] != TokenKind::kAdded) {
      register_added_token(kSpecial, token, it->second);
    }
  }
  return Status::ok();
}

}  // namespace dsv4
