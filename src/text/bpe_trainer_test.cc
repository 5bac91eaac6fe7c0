#include "text/bpe_trainer.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "text/tokenizer_test_util.h"

namespace dsv4 {
namespace {

using Merges = std::vector<std::pair<int32_t, int32_t>>;
using Pieces = std::vector<std::pair<std::string, int64_t>>;

// Every round recounts every pair from scratch: slow and obviously right.
Merges naive_merges(const Pieces& pieces, int64_t max_tokens, std::vector<std::string>& tokens) {
  tokens.clear();
  for (int b = 0; b < 256; ++b) tokens.emplace_back(1, char(b));
  std::vector<std::vector<int32_t>> words;
  for (const auto& [text, n] : pieces) {
    words.emplace_back();
    for (unsigned char c : text) words.back().push_back(c);
  }
  Merges merges;
  while (int64_t(tokens.size()) < max_tokens) {
    std::map<std::pair<int32_t, int32_t>, int64_t> counts;
    for (size_t w = 0; w < words.size(); ++w)
      for (size_t i = 0; i + 1 < words[w].size(); ++i) counts[{words[w][i], words[w][i + 1]}] += pieces[w].second;
    if (counts.empty()) break;
    auto best = counts.begin();
    for (auto it = counts.begin(); it != counts.end(); ++it)
      if (it->second > best->second) best = it;  // ties keep the smaller pair: the map is ordered
    const auto [a, b] = best->first;
    const std::string text = tokens[size_t(a)] + tokens[size_t(b)];
    int32_t merged = int32_t(std::find(tokens.begin(), tokens.end(), text) - tokens.begin());
    if (merged == int32_t(tokens.size())) tokens.push_back(text);
    merges.emplace_back(a, b);
    for (auto& s : words) {
      std::vector<int32_t> out;
      for (size_t i = 0; i < s.size(); ++i) {
        if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
          out.push_back(merged);
          ++i;
        } else {
          out.push_back(s[i]);
        }
      }
      s = out;
    }
  }
  return merges;
}

TEST(BpeTrainer, IncrementalCountsMatchARecountEveryRound) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    Pieces pieces;
    const int alphabet = 2 + trial % 4;  // few letters: many ties, repeats and merges that recreate tokens
    for (int p = 0; p < 40; ++p) {
      std::string s(size_t(1 + rng() % 9), 'a');
      for (char& c : s) c = char('a' + rng() % unsigned(alphabet));
      pieces.emplace_back(s, int64_t(1 + rng() % 5));
    }
    std::vector<std::string> fast_tokens, slow_tokens;
    const Merges fast = learn_merges(pieces, 256 + 60, fast_tokens);
    const Merges slow = naive_merges(pieces, 256 + 60, slow_tokens);
    ASSERT_EQ(fast, slow) << "trial " << trial;
    ASSERT_EQ(fast_tokens, slow_tokens) << "trial " << trial;
  }
}

TEST(BpeTrainer, MostFrequentPairFirstAndTiesToTheSmallerPair) {
  std::vector<std::string> tokens;
  const Merges m = learn_merges({{"ab", 3}, {"cd", 3}, {"xyz", 5}}, 256 + 3, tokens);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0], std::make_pair(int32_t('x'), int32_t('y')));  // 5 beats 3; xy beats yz on ids
  EXPECT_EQ(m[1], std::make_pair(int32_t(256), int32_t('z')));
  EXPECT_EQ(m[2], std::make_pair(int32_t('a'), int32_t('b')));
  EXPECT_EQ(tokens.back(), "ab");
}

TEST(BpeTrainer, StopsWhenNoPairIsLeft) {
  std::vector<std::string> tokens;
  EXPECT_EQ(learn_merges({{"abc", 1}, {"d", 4}}, 1000, tokens).size(), 2u);
  EXPECT_EQ(tokens.size(), 258u);
}

TEST(BpeTrainer, TrainedTokenizerLoadsAndRoundTrips) {
  std::string text;
  for (int i = 0; i < 50; ++i)
    text += "To be, or not to be, that is the question: 12345 — naïve café.\n";
  auto trained = train_bpe(text, 17 + 256 + 40);
  ASSERT_TRUE(trained) << trained.status().message();
  const BpeTraining& t = trained.value();
  EXPECT_EQ(t.vocab_size(), 17 + 256 + 40);
  auto tok = load_tokenizer_json(nlohmann::json::parse(tokenizer_json_text(t)));
  ASSERT_TRUE(tok) << tok.status().message();
  EXPECT_EQ(tok.value().vocab_size(), t.vocab_size());
  EXPECT_EQ(tok.value().token_id("<｜begin▁of▁sentence｜>"), 0);
  EXPECT_EQ(tok.value().token_id("<｜end▁of▁sentence｜>"), 1);

  for (const std::string s : {text, std::string("unseen words: zebra 987 ☃ <think>x</think>")}) {
    auto ids = tok.value().encode(s);
    ASSERT_TRUE(ids) << ids.status().message();
    auto back = tok.value().decode(ids.value());
    ASSERT_TRUE(back);
    EXPECT_EQ(back.value(), s);
  }
  EXPECT_LT(double(tok.value().encode(text).value().size()), 0.6 * double(text.size()));
  EXPECT_EQ(tok.value().encode("<think>").value(), std::vector<int32_t>{5});

  auto again = train_bpe(text, 17 + 256 + 40);
  ASSERT_TRUE(again);
  EXPECT_EQ(tokenizer_json_text(again.value()), tokenizer_json_text(t));
  EXPECT_NE(tokenizer_config_json_text(t).find("add_bos_token\": true"), std::string::npos);
}

TEST(BpeTrainer, EnoughMergesMakeEveryPieceOneToken) {
  const std::string line = "the cat sat on the mat, 2024!\n";
  std::string text;
  for (int i = 0; i < 10; ++i) text += line;
  auto trained = train_bpe(text, 100000);  // stops early: no pair is left
  ASSERT_TRUE(trained);
  EXPECT_LT(trained.value().vocab_size(), 17 + 256 + int64_t(line.size()));
  auto tok = load_tokenizer_json(nlohmann::json::parse(tokenizer_json_text(trained.value())));
  ASSERT_TRUE(tok) << tok.status().message();
  // the | Ġcat | Ġsat | Ġon | Ġthe | Ġmat | , | Ġ | 202 | 4 | ! | Ċ
  EXPECT_EQ(tok.value().encode(line).value().size(), 12u);
}

TEST(BpeTrainer, RejectsInvalidUtf8AndTooSmallVocabularies) {
  auto bad = train_bpe("ok \xff then", 1000);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("UTF-8"), std::string::npos);
  auto small = train_bpe("text", 100);
  ASSERT_FALSE(small);
  EXPECT_NE(small.status().message().find("too small"), std::string::npos);
}

}  // namespace
}  // namespace dsv4
