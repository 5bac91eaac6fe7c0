#include "text/byte_level.h"

#include <gtest/gtest.h>

#include <set>

namespace dsv4 {
namespace {

TEST(ByteLevel, MapsBytesToDistinctCharsAndBack) {
  std::set<char32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const char32_t c = byte_level_char(uint8_t(b));
    EXPECT_TRUE(seen.insert(c).second) << "byte " << b;
    EXPECT_EQ(byte_level_byte(c), b);
  }
}

TEST(ByteLevel, UsesGpt2sAlphabet) {
  EXPECT_EQ(byte_level_char(' '), U'\u0120');   // Ġ
  EXPECT_EQ(byte_level_char('\n'), U'\u010A');  // Ċ
  EXPECT_EQ(byte_level_char('\t'), U'\u0109');  // ĉ
  EXPECT_EQ(byte_level_char(0), U'\u0100');
  EXPECT_EQ(byte_level_char(0x7F), U'\u0121');
  EXPECT_EQ(byte_level_char(0xAD), U'\u0143');  // the soft hyphen is the last shifted byte
  EXPECT_EQ(byte_level_char('A'), U'A');
  EXPECT_EQ(byte_level_char(0xE9), U'\u00E9');
  EXPECT_EQ(byte_level_byte(U'\u0144'), -1);
  EXPECT_EQ(byte_level_byte(U' '), -1);
}

TEST(ByteLevel, RoundTripsEveryByteString) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(char(b));
  for (const std::string& s :
       std::vector<std::string>{std::string(), std::string(" hello\n"), std::string("\xE4\xBD\xA0"), all}) {
    const std::string text = byte_level_encode(s);
    const auto back = byte_level_decode(text);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(byte_level_encode(" the\n"), "\xC4\xA0the\xC4\x8A");  // "Ġthe" + "Ċ"
}

TEST(ByteLevel, DecodeRejectsTextOutsideTheAlphabet) {
  EXPECT_FALSE(byte_level_decode("<\xEF\xBD\x9C"
                                 "User\xEF\xBD\x9C>")
                   .has_value());                       // <｜User｜>
  EXPECT_FALSE(byte_level_decode(" ").has_value());     // a raw space is not in the alphabet
  EXPECT_FALSE(byte_level_decode("\xC4").has_value());  // not UTF-8
}

}  // namespace
}  // namespace dsv4
