// A tokenized dataset on disk, written by `dsv4 data prepare` and read by training and evaluation:
//   DIR/meta.json           {"format": "dsv4-token-shards", "version": 1, "dtype": "uint16" | "uint32",
//                            "vocab_size": V, "splits": {"train": {"tokens": N, "text_bytes": B,
//                            "shards": ["train-00000.bin", ...]}, "val": {...}}}
//   DIR/<split>-NNNNN.bin   the split's token ids in order, little-endian, `dtype` each
// text_bytes is the UTF-8 size of the text the split was made from: loss per byte needs it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "text/tokenizer.h"

namespace dsv4 {

struct TokenSplit {
  std::vector<int32_t> tokens;
  int64_t text_bytes = 0;
};

struct TokenShards {
  int64_t vocab_size = 0;
  TokenSplit train, val;
};

struct PrepareOptions {
  double val_fraction = 0.1;        // the last part of the text, cut at a line start
  int64_t shard_tokens = 1 << 24;   // most tokens per shard file
};

// Cuts the text into train and validation parts, encodes each as one document (BOS first when the
// tokenizer asks for it) and writes the shards, then meta.json; every file appears atomically.
Result<TokenShards> prepare_token_shards(std::string_view text, const Tokenizer& tokenizer, const std::string& dir,
                                         const PrepareOptions& options);

// Reads a prepared dataset, checking meta.json, every shard's size and every id against vocab_size.
Result<TokenShards> load_token_shards(const std::string& dir);

}  // namespace dsv4
