#include "text/tokenizer_pre_split.h"

#include <algorithm>

namespace dsv4 {

namespace {

// Calls f(span, is_match) for the matches and the non-empty gaps around them, in text order.
template <typename F>
void for_each_segment(size_t size, std::span<const TextSpan> matches, bool invert, F&& f) {
  size_t pos = 0;
  for (const TextSpan& m : matches) {
    if (m.begin > pos) f(TextSpan{pos, m.begin}, invert);
    f(m, !invert);
    pos = m.end;
  }
  if (pos < size) f(TextSpan{pos, size}, invert);
}

}  // namespace

std::optional<SplitBehavior> split_behavior_from_name(std::string_view name) {
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  return std::nullopt;
}

void split_by_matches(size_t size, std::span<const TextSpan> matches, SplitBehavior behavior, bool invert,
                      std::vector<TextSpan>& pieces) {
  const size_t first = pieces.size();
  bool previous_match = false;
  std::optional<TextSpan> held;  // kMergedWithNext: a match waiting to be prefixed to the next segment
  for_each_segment(size, matches, invert, [&](TextSpan s, bool is_match) {
    const bool have_piece = pieces.size() > first;
    switch (behavior) {
      case SplitBehavior::kRemoved:
        if (!is_match) pieces.push_back(s);
        break;
      case SplitBehavior::kIsolated:
        pieces.push_back(s);
        break;
      case SplitBehavior::kMergedWithPrevious:
        if (is_match && !previous_match && have_piece) {
          pieces.back().end = s.end;
        } else {
          pieces.push_back(s);
        }
        break;
      case SplitBehavior::kMergedWithNext:
        if (is_match) {
          if (held) pieces.push_back(*held);  // a match followed by a match stands alone
          held = s;
        } else {
          pieces.push_back({held ? held->begin : s.begin, s.end});
          held.reset();
        }
        break;
      case SplitBehavior::kContiguous:
        if (is_match == previous_match && have_piece) {
          pieces.back().end = s.end;
        } else {
          pieces.push_back(s);
        }
        break;
    }
    previous_match = is_match;
  });
  if (held) pieces.push_back(*held);
  const auto empty = [](const TextSpan& s) { return s.begin == s.end; };
  pieces.erase(std::remove_if(pieces.begin() + std::ptrdiff_t(first), pieces.end(), empty), pieces.end());
}

Status PreSplitter::split(std::string_view text, Scratch& scratch, std::vector<std::string_view>& pieces) const {
  scratch.spans.clear();
  if (!text.empty()) scratch.spans.push_back({0, text.size()});
  for (const SplitStep& step : steps_) {
    scratch.next_spans.clear();
    for (const TextSpan& span : scratch.spans) {
      const std::string_view piece = text.substr(span.begin, span.end - span.begin);
      scratch.matches.clear();
      DSV4_RETURN_IF_ERROR(step.regex.find_all(piece, scratch.match_data, scratch.matches));
      const size_t first = scratch.next_spans.size();
      split_by_matches(piece.size(), scratch.matches, step.behavior, step.invert, scratch.next_spans);
      for (size_t i = first; i < scratch.next_spans.size(); ++i) {
        scratch.next_spans[i].begin += span.begin;
        scratch.next_spans[i].end += span.begin;
      }
    }
    std::swap(scratch.spans, scratch.next_spans);
  }
  pieces.clear();
  for (const TextSpan& s : scratch.spans) pieces.push_back(text.substr(s.begin, s.end - s.begin));
  return Status::ok();
}

}  // namespace dsv4
