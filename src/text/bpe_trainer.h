// Byte-level BPE training: text → the Hugging Face tokenizer.json (+ tokenizer_config.json) that
// Tokenizer::load reads. Ids: the V4 control strings first (BOS 0, EOS 1, as in DeepSeek's tokenizer, then
// the chat format's strings), the 256 byte tokens next, then one id per learned token.
//
// Training follows HF's BpeTrainer: the text is cut into pieces by the pre-tokenizer the tokenizer will
// use (numbers in runs of up to 3 digits, letters with one leading space, punctuation runs, whitespace);
// each round merges the most frequent adjacent pair of symbols across all pieces, ties going to the pair
// with the smaller ids (first part, then second). A merge whose text is already a token adds a merge rule
// but no id. Training stops at the requested vocabulary or when no pair is left.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace dsv4 {

struct BpeTraining {
  std::vector<std::string> special_tokens;                  // ids 0 ..
  std::vector<std::string> tokens;                          // raw bytes of every BPE id (bytes, then merges)
  std::vector<std::pair<int32_t, int32_t>> merges;          // in rank order, as indices into `tokens`
  int64_t vocab_size() const { return int64_t(special_tokens.size() + tokens.size()); }
};

// The merge rounds over pieces given as byte strings with their counts: the core of train_bpe, exposed
// for the test that checks it against a from-scratch recount every round.
std::vector<std::pair<int32_t, int32_t>> learn_merges(const std::vector<std::pair<std::string, int64_t>>& pieces,
                                                      int64_t max_tokens, std::vector<std::string>& tokens);

// Fails on text that is not valid UTF-8 and on a vocabulary too small for the control strings and bytes.
Result<BpeTraining> train_bpe(std::string_view text, int64_t vocab_size);

std::string tokenizer_json_text(const BpeTraining& t);
std::string tokenizer_config_json_text(const BpeTraining& t);

}  // namespace dsv4
