#include "text/tokenizer.h"

#include "text/utf8.h"

namespace dsv4 {

// Buffers of one encode call; nothing is shared between calls, so encode can run on many threads.
struct Tokenizer::EncodeScratch {
  PreSplitter::Scratch pre_split;
  BpeModel::Scratch bpe;
  std::vector<std::string_view> pieces;
};

Result<std::vector<int32_t>> Tokenizer::encode(std::string_view text) const {
  const size_t valid = utf8_valid_prefix(text);
  if (valid != text.size()) {
    return Status::error("encode: the text is not valid UTF-8 at byte {} of {} (0x{:02x}); only UTF-8 can be tokenized",
                         valid, text.size(), uint8_t(text[valid]));
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 4 + 1);
  EncodeScratch scratch;
  DSV4_RETURN_IF_ERROR(encode_added(text, kSpecial, scratch, ids));
  return ids;
}

Result<std::vector<int32_t>> Tokenizer::encode_with_bos(std::string_view text) const {
  DSV4_ASSIGN_OR_RETURN(std::vector<int32_t> ids, encode(text));
  if (add_bos_) ids.insert(ids.begin(), bos_id_);
  return ids;
}

Status Tokenizer::encode_added(std::string_view text, int kind, EncodeScratch& scratch,
                               std::vector<int32_t>& out) const {
  if (kind == kAddedKinds) return encode_ordinary(text, scratch, out);
  size_t pos = 0;
  while (const auto found = added_[size_t(kind)].find(text, pos)) {
    DSV4_RETURN_IF_ERROR(encode_added(text.substr(pos, found->begin - pos), kind + 1, scratch, out));
    out.push_back(found->id);
    pos = found->end;
  }
  return encode_added(text.substr(pos), kind + 1, scratch, out);
}

Status Tokenizer::encode_ordinary(std::string_view text, EncodeScratch& scratch, std::vector<int32_t>& out) const {
  if (text.empty()) return Status::ok();
  DSV4_RETURN_IF_ERROR(pre_splitter_.split(text, scratch.pre_split, scratch.pieces));
  for (const std::string_view piece : scratch.pieces) encode_piece(piece, scratch, out);
  return Status::ok();
}

void Tokenizer::encode_piece(std::string_view piece, EncodeScratch& scratch, std::vector<int32_t>& out) const {
  const bool cacheable = piece.size() > 1 && piece.size() <= WordCache::kMaxPieceBytes;
  if (cacheable && cache_->lookup(piece, out)) return;
  const size_t first = out.size();
  bpe_.encode_piece(piece, scratch.bpe, out);
  if (cacheable) cache_->insert(piece, std::span<const int32_t>(out).subspan(first));
}

Result<std::string_view> Tokenizer::piece(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    return Status::error("token id {} is out of range: the vocabulary has ids 0..{}", id, vocab_size() - 1);
  if (kinds_[size_t(id)] == TokenKind::kUnused) return Status::error("token id {} is unused by tokenizer.json", id);
  return std::string_view(pieces_[size_t(id)]);
}

Result<std::string> Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string bytes;
  for (const int32_t id : ids) {
    DSV4_ASSIGN_OR_RETURN(const std::string_view p, piece(id));
    bytes += p;
  }
  if (is_valid_utf8(bytes)) return bytes;
  std::string text;
  append_utf8_lossy(bytes, text);
  return text;
}

std::optional<int32_t> Tokenizer::token_id(std::string_view token) const {
  const auto it = token_ids_.find(token);
  return it == token_ids_.end() ? std::nullopt : std::optional<int32_t>(it->second);
}

}  // namespace dsv4
