#include "text/stream_decoder.h"

#include <gtest/gtest.h>

#include <random>

#include "text/tokenizer_test_util.h"

namespace dsv4 {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

// Ids 0..255 are the bytes; 256 is "é" (C3 A9), 257 is "\xA9" + "x" after it: a token that ends a character
// and starts ASCII, as byte-level merges can produce.
Tokenizer byte_tokenizer() {
  auto t = load_tokenizer_json(tiny_tokenizer_json({{"Ã", "©"}, {"©", "x"}}, false));
  EXPECT_TRUE(t) << t.status().message();
  return std::move(t).value();
}

std::string push_ok(StreamDecoder& d, int32_t id) {
  auto text = d.push(id);
  EXPECT_TRUE(text) << text.status().message();
  return text ? text.value() : "";
}

TEST(StreamDecoder, HoldsBytesUntilTheirCharacterIsComplete) {
  const Tokenizer t = byte_tokenizer();
  StreamDecoder d(t);
  EXPECT_EQ(push_ok(d, 'a'), "a");
  EXPECT_EQ(push_ok(d, 0xE2), "");
  EXPECT_EQ(push_ok(d, 0x82), "");
  EXPECT_EQ(d.pending_bytes(), 2u);
  EXPECT_EQ(push_ok(d, 0xAC), "\xE2\x82\xAC");  // €
  EXPECT_EQ(push_ok(d, 0xF0), "");
  EXPECT_EQ(push_ok(d, 0x9F), "");
  EXPECT_EQ(push_ok(d, 0x98), "");
  EXPECT_EQ(push_ok(d, 0x80), "\xF0\x9F\x98\x80");  // 😀
  EXPECT_EQ(push_ok(d, 0xC3), "");
  EXPECT_EQ(push_ok(d, 257), "\xC3\xA9x");  // a token finishing "é" and adding "x"
  EXPECT_EQ(d.finish(), "");
}

TEST(StreamDecoder, ReplacesBytesThatCannotBecomeACharacter) {
  const Tokenizer t = byte_tokenizer();
  StreamDecoder d(t);
  EXPECT_EQ(push_ok(d, 0xE2), "");
  EXPECT_EQ(push_ok(d, 'A'), kFffd + "A");
  EXPECT_EQ(push_ok(d, 0xFF), kFffd);
  EXPECT_EQ(push_ok(d, 0xF0), "");
  EXPECT_EQ(push_ok(d, 0x9F), "");
  EXPECT_EQ(d.finish(), kFffd);  // a truncated character at the end
  EXPECT_EQ(d.pending_bytes(), 0u);
}

TEST(StreamDecoder, RejectsAnUnknownIdAndKeepsItsState) {
  const Tokenizer t = byte_tokenizer();
  StreamDecoder d(t);
  EXPECT_EQ(push_ok(d, 0xC3), "");
  auto bad = d.push(258);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("258"), std::string::npos);
  EXPECT_EQ(push_ok(d, 0xA9), "\xC3\xA9");
}

// The property callers rely on: the pieces joined equal one decode() of all the ids.
TEST(StreamDecoder, JoinedOutputEqualsDecode) {
  const Tokenizer t = byte_tokenizer();
  std::mt19937 rng(7);
  // Mostly bytes that form or break multi-byte characters.
  const std::vector<int32_t> alphabet = {'a',  ' ',  0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98,
                                         0x80, 0xED, 0xA0, 0xFF, 0xC0, 0xF4, 0x90, 256,  257};
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<int32_t> ids(size_t(rng() % 12));
    for (auto& id : ids) id = alphabet[rng() % alphabet.size()];
    StreamDecoder d(t);
    std::string joined;
    for (const int32_t id : ids) joined += push_ok(d, id);
    joined += d.finish();
    EXPECT_EQ(joined, t.decode(ids).value()) << testing::PrintToString(ids);
  }
}

}  // namespace
}  // namespace dsv4
