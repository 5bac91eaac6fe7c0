#include "text/bpe_trainer.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <queue>
#include <unordered_map>

#include "text/byte_level.h"
#include "text/chat_tokens.h"
#include "text/tokenizer_pre_split.h"
#include "text/utf8.h"

namespace dsv4 {

namespace {

// DeepSeek's control strings in their tokenizer's order (BOS 0, EOS 1), then the chat format's own.
const std::vector<std::string>& v4_special_tokens() {
  static const std::vector<std::string> tokens = {
      std::string(kBosToken), std::string(kEosToken), "<｜▁pad▁｜>", std::string(kUserToken),
      std::string(kAssistantToken), std::string(kThinkStart), std::string(kThinkEnd), "｜DSML｜",
      std::string(kLatestReminderToken), "<｜action｜>", "<｜query｜>", "<｜authority｜>", "<｜domain｜>",
      "<｜title｜>", "<｜read_url｜>", std::string(kToolResultOpen), std::string(kToolResultClose)};
  return tokens;
}

constexpr const char* kDigitsPattern = "\\p{N}{1,3}";
constexpr const char* kWordsPattern = " ?\\p{L}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

Result<PreSplitter> pre_splitter() {
  std::vector<SplitStep> steps;
  for (const char* pattern : {kDigitsPattern, kWordsPattern}) {
    DSV4_ASSIGN_OR_RETURN(TokenizerRegex regex, TokenizerRegex::compile(pattern));
    steps.push_back({std::move(regex), SplitBehavior::kIsolated, false});
  }
  return PreSplitter(std::move(steps));
}

uint64_t pair_key(int32_t a, int32_t b) { return uint64_t(uint32_t(a)) << 32 | uint32_t(b); }

struct Word {
  std::vector<int32_t> symbols;
  int64_t count;
};

// Heap order: the larger count first, then the smaller pair.
struct Candidate {
  int64_t count;
  uint64_t pair;
  bool operator<(const Candidate& o) const { return count != o.count ? count < o.count : pair > o.pair; }
};

void merge_in_place(std::vector<int32_t>& s, int32_t a, int32_t b, int32_t merged) {
  size_t out = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
      s[out++] = merged;
      ++i;
    } else {
      s[out++] = s[i];
    }
  }
  s.resize(out);
}

}  // namespace

std::vector<std::pair<int32_t, int32_t>> learn_merges(const std::vector<std::pair<std::string, int64_t>>& pieces,
                                                      int64_t max_tokens, std::vector<std::string>& tokens) {
  tokens.clear();
  std::unordered_map<std::string, int32_t> ids;
  for (int b = 0; b < 256; ++b) {
    tokens.emplace_back(1, char(b));
    ids.emplace(tokens.back(), b);
  }
  std::vector<Word> words;
  std::unordered_map<uint64_t, int64_t> counts;
  std::unordered_map<uint64_t, std::vector<int32_t>> words_with;  // may list words that lost the pair since
  for (const auto& [text, n] : pieces) {
    Word w{{}, n};
    for (unsigned char c : text) w.symbols.push_back(c);
    for (size_t i = 0; i + 1 < w.symbols.size(); ++i) {
      const uint64_t k = pair_key(w.symbols[i], w.symbols[i + 1]);
      counts[k] += n;
      words_with[k].push_back(int32_t(words.size()));
    }
    words.push_back(std::move(w));
  }
  std::priority_queue<Candidate> heap;
  for (const auto& [k, n] : counts) heap.push({n, k});

  std::vector<std::pair<int32_t, int32_t>> merges;
  std::vector<size_t> visited(words.size(), 0);  // the merge round that last rewrote each word
  std::unordered_map<uint64_t, int64_t> delta;
  while (int64_t(tokens.size()) < max_tokens && !heap.empty()) {
    const Candidate top = heap.top();
    heap.pop();
    const auto found = counts.find(top.pair);
    if (found == counts.end() || found->second != top.count) continue;  // an outdated entry
    const int32_t a = int32_t(top.pair >> 32), b = int32_t(uint32_t(top.pair));
    std::string text = tokens[size_t(a)] + tokens[size_t(b)];
    auto [slot, is_new] = ids.emplace(text, int32_t(tokens.size()));
    if (is_new) tokens.push_back(std::move(text));
    const int32_t merged = slot->second;
    merges.emplace_back(a, b);

    // Each word holding the pair: take all its pairs out, merge, put the new ones back.
    const std::vector<int32_t> holders = std::move(words_with[top.pair]);
    words_with.erase(top.pair);
    delta.clear();
    for (int32_t wi : holders) {
      if (visited[size_t(wi)] == merges.size()) continue;
      visited[size_t(wi)] = merges.size();
      Word& w = words[size_t(wi)];
      for (size_t i = 0; i + 1 < w.symbols.size(); ++i) delta[pair_key(w.symbols[i], w.symbols[i + 1])] -= w.count;
      merge_in_place(w.symbols, a, b, merged);
      for (size_t i = 0; i + 1 < w.symbols.size(); ++i) {
        const uint64_t k = pair_key(w.symbols[i], w.symbols[i + 1]);
        delta[k] += w.count;
        if (w.symbols[i] == merged || w.symbols[i + 1] == merged) words_with[k].push_back(wi);
      }
    }
    for (const auto& [k, d] : delta) {
      if (d == 0) continue;
      const int64_t n = counts[k] += d;
      if (n == 0) {
        counts.erase(k);
      } else {
        heap.push({n, k});
      }
    }
  }
  return merges;
}

Result<BpeTraining> train_bpe(std::string_view text, int64_t vocab_size) {
  if (const size_t valid = utf8_valid_prefix(text); valid != text.size())
    return Status::error("the training text is not valid UTF-8 (byte {})", valid);
  BpeTraining t;
  t.special_tokens = v4_special_tokens();
  const int64_t base = int64_t(t.special_tokens.size()) + 256;
  if (vocab_size < base)
    return Status::error("a vocabulary of {} is too small: the control strings and bytes take {}", vocab_size, base);

  DSV4_ASSIGN_OR_RETURN(const PreSplitter splitter, pre_splitter());
  PreSplitter::Scratch scratch;
  std::vector<std::string_view> views;
  DSV4_RETURN_IF_ERROR(splitter.split(text, scratch, views));
  std::unordered_map<std::string_view, int64_t> counts;
  for (std::string_view v : views) ++counts[v];
  std::vector<std::pair<std::string, int64_t>> pieces;
  pieces.reserve(counts.size());
  for (const auto& [v, n] : counts) pieces.emplace_back(std::string(v), n);

  t.merges = learn_merges(pieces, vocab_size - int64_t(t.special_tokens.size()), t.tokens);
  return t;
}

std::string tokenizer_json_text(const BpeTraining& t) {
  using nlohmann::ordered_json;
  const int32_t first_model_id = int32_t(t.special_tokens.size());
  ordered_json added = ordered_json::array();
  for (size_t i = 0; i < t.special_tokens.size(); ++i)
    added.push_back({{"id", i}, {"content", t.special_tokens[i]}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  ordered_json vocab = ordered_json::object();
  for (size_t i = 0; i < t.tokens.size(); ++i) vocab[byte_level_encode(t.tokens[i])] = first_model_id + int32_t(i);
  ordered_json merges = ordered_json::array();
  for (const auto& [a, b] : t.merges)
    merges.push_back(byte_level_encode(t.tokens[size_t(a)]) + " " + byte_level_encode(t.tokens[size_t(b)]));
  const auto split = [](const char* pattern) {
    return ordered_json{{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}, {"invert", false}};
  };
  ordered_json j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = added;
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers",
                         {split(kDigitsPattern), split(kWordsPattern),
                          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}};
  j["post_processor"] = nullptr;
  j["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  j["model"] = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
                {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false},
                {"vocab", vocab}, {"merges", merges}};
  return j.dump(1) + "\n";
}

std::string tokenizer_config_json_text(const BpeTraining& t) {
  nlohmann::ordered_json j;
  j["add_bos_token"] = true;
  j["add_eos_token"] = false;
  j["bos_token"] = {{"__type", "AddedToken"}, {"content", t.special_tokens[0]}};
  j["eos_token"] = {{"__type", "AddedToken"}, {"content", t.special_tokens[1]}};
  j["tokenizer_class"] = "LlamaTokenizerFast";
  return j.dump(1) + "\n";
}

}  // namespace dsv4
