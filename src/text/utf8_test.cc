// The UTF-8 rules both text libraries share: classification, validation, decoding, encoding, repair.
#include "text/utf8.h"

#include <gtest/gtest.h>

namespace dsv4 {
namespace {

std::string lossy(std::string_view s) {
  std::string out;
  append_utf8_lossy(s, out);
  return out;
}

const std::string kFffd = "\xEF\xBF\xBD";

TEST(Utf8, ClassifiesWellFormedSequences) {
  for (const std::string& s :
       std::vector<std::string>{"A", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF"}) {
    const Utf8Unit u = utf8_unit_at(s, 0);
    EXPECT_EQ(u.kind, Utf8Unit::kValid) << s;
    EXPECT_EQ(u.length, s.size()) << s;
  }
}

TEST(Utf8, RejectsOverlongSurrogateAndOutOfRangeForms) {
  // Each lead byte narrows its second byte, so the maximal subpart is the lead byte alone.
  for (const std::string& s : std::vector<std::string>{"\xC0\x80", "\xE0\x80\x80", "\xED\xA0\x80", "\xF0\x80\x80\x80",
                                                       "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\x80", "\xFF"}) {
    const Utf8Unit u = utf8_unit_at(s, 0);
    EXPECT_EQ(u.kind, Utf8Unit::kInvalid) << testing::PrintToString(s);
    EXPECT_EQ(u.length, 1u) << testing::PrintToString(s);
    EXPECT_EQ(utf8_valid_prefix(s), 0u);
    EXPECT_FALSE(is_valid_utf8(s));
  }
}

TEST(Utf8, TellsATruncatedTailFromABrokenSequence) {
  EXPECT_EQ(utf8_unit_at("\xE2\x82", 0).kind, Utf8Unit::kTruncated);
  EXPECT_EQ(utf8_unit_at("\xE2\x82", 0).length, 2u);
  EXPECT_EQ(utf8_unit_at("\xE2\x82"
                         "A",
                         0)
                .kind,
            Utf8Unit::kInvalid);
  EXPECT_EQ(utf8_unit_at("\xE2\x82"
                         "A",
                         0)
                .length,
            2u);
}

TEST(Utf8, FindsTheFirstBadByteAfterLongAsciiRuns) {
  const std::string s = std::string(37, 'a') + "\xC3\xA9" + std::string(20, 'b') + "\xFF" + "tail";
  EXPECT_EQ(utf8_valid_prefix(s), 37u + 2u + 20u);
  EXPECT_EQ(utf8_valid_prefix(std::string(64, 'x')), 64u);
  EXPECT_TRUE(is_valid_utf8(""));
}

TEST(Utf8, ChecksWithAOneLineError) {
  EXPECT_TRUE(check_utf8("caf\xC3\xA9", "request").is_ok());
  EXPECT_EQ(check_utf8("ab\xC3", "messages[0].content").message(), "messages[0].content: invalid UTF-8 at byte 2");
}

// The substitutions below are the ones the WHATWG decoder (and Rust's from_utf8_lossy) make.
TEST(Utf8, LossyRepairReplacesEachMaximalSubpart) {
  EXPECT_EQ(lossy("ok"), "ok");
  EXPECT_EQ(lossy("a\xE2\x82"
                  "b"),
            "a" + kFffd + "b");
  EXPECT_EQ(lossy("\xF0\x80\x80"), kFffd + kFffd + kFffd);
  EXPECT_EQ(lossy("\xED\xA0\x80"), kFffd + kFffd + kFffd);
  EXPECT_EQ(lossy("\xF1\x80\x80"), kFffd);  // truncated at the end: one replacement
  EXPECT_EQ(lossy("\xC3\xA9\xFF\xC3\xA9"), "\xC3\xA9" + kFffd + "\xC3\xA9");
}

TEST(Utf8, EncodesAndDecodesCodePoints) {
  const std::u32string cps = U"A\u00E9\u20AC\U0001F600\U0010FFFF";
  std::string s;
  for (const char32_t cp : cps) append_utf8(cp, s);
  EXPECT_EQ(s, "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF");
  std::u32string back;
  for (size_t pos = 0; pos < s.size();) back += decode_utf8(s, pos);
  EXPECT_EQ(back, cps);
}

// A lone surrogate from a JSON escape is carried as WTF-8, which validation then rejects.
TEST(Utf8, Wtf8CarriesSurrogatesThatValidationRejects) {
  std::string s = "x";
  append_wtf8(0xD800, s);
  append_wtf8(0xDFFF, s);
  EXPECT_EQ(s, "x\xED\xA0\x80\xED\xBF\xBF");
  EXPECT_EQ(utf8_valid_prefix(s), 1u);
}

}  // namespace
}  // namespace dsv4
