// libFuzzer target: the tokenizer, with the tiny test tokenizer (tests/data/tiny-tokenizer) loaded once. The
// input is encoded as text, which must succeed exactly when it is UTF-8 and decode back to itself; it is
// also read as a list of ids (some out of range) whose StreamDecoder pieces, joined, must equal decode of
// the ids it accepted, as stream_decoder.h promises.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "base/check.h"
#include "text/stream_decoder.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

namespace {

const dsv4::Tokenizer& tiny_tokenizer() {
  static const dsv4::Tokenizer tokenizer = [] {
    const std::string dir = DSV4_SOURCE_DIR "/tests/data/tiny-tokenizer/";
    dsv4::Result<dsv4::Tokenizer> t = dsv4::Tokenizer::load(dir + "tokenizer.json", dir + "tokenizer_config.json");
    if (!t) {
      std::fprintf(stderr, "tokenizer_fuzz: %s\n", t.status().message().c_str());
      std::abort();
    }
    return std::move(t).value();
  }();
  return tokenizer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dsv4;
  const Tokenizer& t = tiny_tokenizer();
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const Result<std::vector<int32_t>> ids = t.encode(text);
  DSV4_CHECK(ids.is_ok() == is_valid_utf8(text));
  if (ids) {
    const Result<std::string> back = t.decode(ids.value());
    DSV4_CHECK(back && back.value() == text);
  }

  // Two bytes per id, spread over [-4, vocab_size + 4) so that bad ids occur too.
  const auto span = uint32_t(t.vocab_size() + 8);
  StreamDecoder stream(t);
  std::vector<int32_t> accepted;
  std::string streamed;
  for (size_t i = 0; i + 1 < size; i += 2) {
    const int32_t id = int32_t((uint32_t(data[i]) | uint32_t(data[i + 1]) << 8) % span) - 4;
    const Result<std::string> piece = stream.push(id);
    if (!piece) continue;
    DSV4_CHECK(stream.pending_bytes() <= 3);
    accepted.push_back(id);
    streamed += piece.value();
  }
  streamed += stream.finish();
  const Result<std::string> decoded = t.decode(accepted);
  DSV4_CHECK(decoded && decoded.value() == streamed && is_valid_utf8(streamed));
  return 0;
}
