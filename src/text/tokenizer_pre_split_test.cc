#include "text/tokenizer_pre_split.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dsv4 {
namespace {

// DeepSeek-V3's pre-tokenizer, as its tokenizer.json writes it.
const char* kDigits = "\\p{N}{1,3}";
const char* kCjk = "[一-龥぀-ゟ゠-ヿ]+";
const char* kMain =
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+"
    "[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+";

std::vector<std::string> split_text(const PreSplitter& splitter, std::string_view text) {
  PreSplitter::Scratch scratch;
  std::vector<std::string_view> pieces;
  const Status st = splitter.split(text, scratch, pieces);
  EXPECT_TRUE(st) << st.message();
  return {pieces.begin(), pieces.end()};
}

PreSplitter deepseek_splitter() {
  std::vector<SplitStep> steps;
  for (const char* p : {kDigits, kCjk, kMain}) {
    auto re = TokenizerRegex::compile(p);
    EXPECT_TRUE(re) << re.status().message();
    steps.push_back({std::move(re).value(), SplitBehavior::kIsolated, false});
  }
  return PreSplitter(std::move(steps));
}

std::vector<std::string> split_on_dash(SplitBehavior behavior, bool invert = false) {
  const std::string text = "the-final--countdown";
  auto re = TokenizerRegex::compile_literal("-");
  EXPECT_TRUE(re) << re.status().message();
  if (!re) return {};
  TokenizerRegex::MatchData md;
  std::vector<TextSpan> matches, pieces;
  EXPECT_TRUE(re->find_all(text, md, matches));
  split_by_matches(text.size(), matches, behavior, invert, pieces);
  std::vector<std::string> out;
  for (const TextSpan& s : pieces) out.push_back(text.substr(s.begin, s.end - s.begin));
  return out;
}

using Pieces = std::vector<std::string>;

// The examples of HF tokenizers' SplitDelimiterBehavior documentation.
TEST(SplitBehavior, FollowsHfForEachBehavior) {
  EXPECT_EQ(split_on_dash(SplitBehavior::kRemoved), (Pieces{"the", "final", "countdown"}));
  EXPECT_EQ(split_on_dash(SplitBehavior::kIsolated), (Pieces{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split_on_dash(SplitBehavior::kMergedWithPrevious), (Pieces{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split_on_dash(SplitBehavior::kMergedWithNext), (Pieces{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split_on_dash(SplitBehavior::kContiguous), (Pieces{"the", "-", "final", "--", "countdown"}));
}

// Adjacent matches stay separate segments, so inverted they are adjacent gaps, not one piece.
TEST(SplitBehavior, InvertSwapsMatchesAndGaps) {
  EXPECT_EQ(split_on_dash(SplitBehavior::kRemoved, /*invert=*/true), (Pieces{"-", "-", "-"}));
  EXPECT_EQ(split_on_dash(SplitBehavior::kMergedWithPrevious, true), (Pieces{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split_on_dash(SplitBehavior::kContiguous, true), (Pieces{"the", "-", "final", "--", "countdown"}));
}

TEST(SplitBehavior, NamesFromTokenizerJson) {
  EXPECT_EQ(split_behavior_from_name("Isolated"), SplitBehavior::kIsolated);
  EXPECT_EQ(split_behavior_from_name("MergedWithNext"), SplitBehavior::kMergedWithNext);
  EXPECT_EQ(split_behavior_from_name("isolated"), std::nullopt);
}

TEST(TokenizerRegex, RewritesWhitespaceEscapesToOnigurumasSet) {
  auto r = rewrite_whitespace_escapes("\\s+(?!\\S)|[\\s\\d]|\\\\s|[]\\s]");
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(
      *r.operator->(),
      "[\\t-\\r\\x{85}\\p{Z}]+(?![^\\t-\\r\\x{85}\\p{Z}])|[\\t-\\r\\x{85}\\p{Z}\\d]|\\\\s|[]\\t-\\r\\x{85}\\p{Z}]");
  EXPECT_FALSE(rewrite_whitespace_escapes("[\\S]"));
  EXPECT_FALSE(rewrite_whitespace_escapes("\\Q\\s\\E"));
}

TEST(TokenizerRegex, WhitespaceIsOnigurumasNotPcre2s) {
  auto re = TokenizerRegex::compile("\\s+");
  ASSERT_TRUE(re);
  TokenizerRegex::MatchData md;
  const auto matches = [&](const std::string& s) {
    std::vector<TextSpan> m;
    EXPECT_TRUE(re->find_all(s, md, m));
    return m.size() == 1 && m[0].begin == 0 && m[0].end == s.size();
  };
  for (const std::string& s :
       std::vector<std::string>{" ", "\t\r\n\v\f", "\xC2\x85", "\xC2\xA0", "\xE3\x80\x80", "\xE2\x80\xA8"})
    EXPECT_TRUE(matches(s)) << testing::PrintToString(s);
  for (const std::string& s :
       std::vector<std::string>{"\xE1\xA0\x8E", "\xEF\xBB\xBF", "\xE2\x80\x8B"})  // U+180E, U+FEFF, U+200B
    EXPECT_FALSE(matches(s)) << testing::PrintToString(s);
}

TEST(TokenizerRegex, KeepsEmptyMatchesAndMovesOnOneCharacter) {
  auto re = TokenizerRegex::compile("x*");
  ASSERT_TRUE(re);
  TokenizerRegex::MatchData md;
  std::vector<TextSpan> m;
  ASSERT_TRUE(re->find_all("\xC3\xA9xx", md, m));  // "éxx"
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].begin, 0u);
  EXPECT_EQ(m[0].end, 0u);
  EXPECT_EQ(m[1].begin, 2u);
  EXPECT_EQ(m[1].end, 4u);
}

TEST(TokenizerRegex, ReportsAPatternThatDoesNotCompile) {
  auto re = TokenizerRegex::compile("(unclosed");
  ASSERT_FALSE(re);
  EXPECT_NE(re.status().message().find("(unclosed"), std::string::npos) << re.status().message();
}

TEST(PreSplitter, SplitsLikeDeepSeekV3) {
  const PreSplitter s = deepseek_splitter();
  EXPECT_EQ(split_text(s, "Hello, world! 12345 dogs\n\n  x"),
            (Pieces{"Hello", ",", " world", "!", " ", "123", "45", " dogs", "\n\n", " ", " x"}));
  EXPECT_EQ(split_text(s, "你好世界 café's ok"), (Pieces{"你好世界", " café", "'s", " ok"}));
  EXPECT_EQ(split_text(s, "日本語のテキスト。"), (Pieces{"日本語のテキスト", "。"}));
  EXPECT_EQ(split_text(s, "a\tb  \n"), (Pieces{"a", "\tb", "  \n"}));
  EXPECT_TRUE(split_text(s, "").empty());
}

TEST(PreSplitter, HandlesMegabyteRunsOfOneKind) {
  const PreSplitter s = deepseek_splitter();
  const size_t n = size_t(4) << 20;
  EXPECT_EQ(split_text(s, std::string(n, ' ') + "x"), (Pieces{std::string(n - 1, ' '), " x"}));
  EXPECT_EQ(split_text(s, std::string(n, 'a')).size(), 1u);
  EXPECT_EQ(split_text(s, std::string(n, '!')).size(), 1u);
  EXPECT_EQ(split_text(s, std::string(n, '7')).size(), (n + 2) / 3);
}

}  // namespace
}  // namespace dsv4
