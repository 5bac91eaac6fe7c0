#include "text/stream_decoder.h"

#include "text/utf8.h"

namespace dsv4 {

Result<std::string> StreamDecoder::push(int32_t id) {
  DSV4_ASSIGN_OR_RETURN(const std::string_view piece, tokenizer_->piece(id));
  pending_ += piece;
  std::string out;
  size_t i = 0;
  while (i < pending_.size()) {
    const Utf8Unit u = utf8_unit_at(pending_, i);
    if (u.kind == Utf8Unit::kTruncated) break;
    if (u.kind == Utf8Unit::kValid) {
      out.append(pending_, i, u.length);
    } else {
      append_utf8(0xFFFD, out);
    }
    i += u.length;
  }
  pending_.erase(0, i);
  return out;
}

std::string StreamDecoder::finish() {
  std::string out;
  append_utf8_lossy(pending_, out);
  pending_.clear();
  return out;
}

}  // namespace dsv4
