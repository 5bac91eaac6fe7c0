// Turns generated token ids into text incrementally without ever emitting a broken UTF-8 sequence. A token
// can end inside a character (byte-level BPE spells rare characters as several byte tokens), so such bytes
// wait until their character is complete. Bytes no continuation can make well-formed become U+FFFD at once,
// so the pieces a stream returns, joined, equal Tokenizer::decode of the same ids.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "text/tokenizer.h"

namespace dsv4 {

class StreamDecoder {
 public:
  // The tokenizer must outlive the decoder and stay where it is.
  explicit StreamDecoder(const Tokenizer& tokenizer) : tokenizer_(&tokenizer) {}

  // The text this token completes: empty while a character is still partial. Fails on an id that is not a
  // token, leaving the stream as it was.
  Result<std::string> push(int32_t id);

  // Ends the stream: the held bytes of an unfinished character become U+FFFD. The decoder is then empty.
  std::string finish();

  // Bytes held back because their character is not complete yet (at most 3).
  size_t pending_bytes() const { return pending_.size(); }

 private:
  const Tokenizer* tokenizer_;
  std::string pending_;
};

}  // namespace dsv4
