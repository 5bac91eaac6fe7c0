#include "text/tokenizer_bpe.h"

#include <algorithm>

namespace dsv4 {

namespace {

uint64_t pair_key(int32_t left, int32_t right) { return uint64_t(uint32_t(left)) << 32 | uint32_t(right); }

// Heap order: the lowest rank, then the leftmost position, comes out first.
bool later(const BpeModel::Scratch::Candidate& a, const BpeModel::Scratch::Candidate& b) {
  return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
}

}  // namespace

BpeModel::BpeModel(const std::array<int32_t, 256>& byte_tokens, std::span<const Merge> merges)
    : byte_tokens_(byte_tokens) {
  rules_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const Merge& m = merges[rank];
    rules_.insert_or_assign(pair_key(m.left, m.right), Rule{int32_t(rank), m.merged});
  }
}

const BpeModel::Rule* BpeModel::find_rule(int32_t left, int32_t right) const {
  const auto it = rules_.find(pair_key(left, right));
  return it == rules_.end() ? nullptr : &it->second;
}

void BpeModel::push_candidate(int32_t pos, Scratch& s) const {
  const int32_t right_pos = s.next[size_t(pos)];
  const int32_t left = s.ids[size_t(pos)], right = s.ids[size_t(right_pos)];
  const Rule* rule = find_rule(left, right);
  if (!rule) return;
  s.heap.push_back({rule->rank, pos, left, right, rule->merged});
  std::push_heap(s.heap.begin(), s.heap.end(), later);
}

void BpeModel::encode_piece(std::string_view piece, Scratch& s, std::vector<int32_t>& out) const {
  const auto n = int32_t(piece.size());
  if (n == 1) {
    out.push_back(byte_tokens_[uint8_t(piece[0])]);
    return;
  }
  s.ids.resize(size_t(n));
  s.next.resize(size_t(n));
  s.prev.resize(size_t(n));
  for (int32_t i = 0; i < n; ++i) {
    s.ids[size_t(i)] = byte_tokens_[uint8_t(piece[size_t(i)])];
    s.next[size_t(i)] = i + 1 < n ? i + 1 : -1;
    s.prev[size_t(i)] = i - 1;
  }
  s.heap.clear();
  for (int32_t i = 0; i + 1 < n; ++i) push_candidate(i, s);

  while (!s.heap.empty()) {
    std::pop_heap(s.heap.begin(), s.heap.end(), later);
    const Scratch::Candidate c = s.heap.back();
    s.heap.pop_back();
    // Candidates are never removed when their symbols change; a stale one no longer finds its pair.
    const int32_t right_pos = s.next[size_t(c.pos)];
    if (s.ids[size_t(c.pos)] != c.left || right_pos < 0 || s.ids[size_t(right_pos)] != c.right) continue;
    s.ids[size_t(c.pos)] = c.merged;
    s.ids[size_t(right_pos)] = -1;
    const int32_t after = s.next[size_t(right_pos)];
    s.next[size_t(c.pos)] = after;
    if (after >= 0) s.prev[size_t(after)] = c.pos;
    if (s.prev[size_t(c.pos)] >= 0) push_candidate(s.prev[size_t(c.pos)], s);
    if (after >= 0) push_candidate(c.pos, s);
  }
  for (int32_t i = 0; i >= 0; i = s.next[size_t(i)]) out.push_back(s.ids[size_t(i)]);
}

}  // namespace dsv4
