// Byte-level BPE on raw bytes: a piece starts as one token per byte, then adjacent pairs are merged, lowest
// merge rank first and leftmost first among equal ranks, until no listed pair is left. This is HF tokenizers'
// BPE model with byte_fallback, dropout, ignore_merges and word affixes off. Working on bytes rather than on
// the byte-level characters that tokenizer.json writes is exact: that alphabet maps bytes one to one.
// Cost: O(n log n) in a piece's n bytes, with about 40 bytes of scratch per byte. Pieces are words, so this
// shows only on adversarial input (a 64 MB run of spaces takes about 1.5 s per MB).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dsv4 {

class BpeModel {
 public:
  // Token ids; a list of merges is in rank order (the first merge has rank 0).
  struct Merge {
    int32_t left;
    int32_t right;
    int32_t merged;
  };

  // Per-call buffers, reused across the pieces of one encode call so merging does not allocate.
  struct Scratch {
    struct Candidate {
      int32_t rank;
      int32_t pos;  // the left symbol's byte offset in the piece
      int32_t left;
      int32_t right;
      int32_t merged;
    };
    std::vector<int32_t> ids;   // [piece bytes] current token of each live symbol; -1 once merged away
    std::vector<int32_t> next;  // [piece bytes] next live symbol, -1 at the end
    std::vector<int32_t> prev;  // [piece bytes] previous live symbol, -1 at the start
    std::vector<Candidate> heap;
  };

  BpeModel() = default;
  // A pair listed twice keeps its later rank, as HF's merge map (built by overwriting) does.
  BpeModel(const std::array<int32_t, 256>& byte_tokens, std::span<const Merge> merges);

  // Appends the tokens of one piece. PRECONDITIONS: !piece.empty() and piece.size() < 2^31.
  void encode_piece(std::string_view piece, Scratch& scratch, std::vector<int32_t>& out) const;

 private:
  struct Rule {
    int32_t rank;
    int32_t merged;
  };

  const Rule* find_rule(int32_t left, int32_t right) const;
  void push_candidate(int32_t pos, Scratch& scratch) const;

  std::array<int32_t, 256> byte_tokens_{};
  std::unordered_map<uint64_t, Rule> rules_;  // key: left << 32 | right
};

}  // namespace dsv4
