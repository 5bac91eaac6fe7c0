// The Split steps of a tokenizer.json pre-tokenizer: they cut text into the pieces that BPE merges within,
// following HF tokenizers' Split (its five SplitDelimiterBehavior values and `invert`). Each step splits every
// piece the previous step produced, so no pattern ever sees across a piece boundary.
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "text/tokenizer_regex.h"

namespace dsv4 {

// How matches and the text between them become pieces; e.g. "the-final--countdown" split on "-" gives
//   kRemoved            the | final | countdown
//   kIsolated           the | - | final | - | - | countdown
//   kMergedWithPrevious the- | final- | - | countdown
//   kMergedWithNext     the | -final | - | -countdown
//   kContiguous         the | - | final | -- | countdown
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// tokenizer.json names ("Isolated", ...); nullopt for an unknown name.
std::optional<SplitBehavior> split_behavior_from_name(std::string_view name);

// Appends the pieces of a text of `size` bytes, given the pattern's matches in it (in order, not
// overlapping), as spans of that text. `invert` swaps the roles of matches and the text between them.
// Empty pieces are dropped, as HF drops them.
void split_by_matches(size_t size, std::span<const TextSpan> matches, SplitBehavior behavior, bool invert,
                      std::vector<TextSpan>& pieces);

struct SplitStep {
  TokenizerRegex regex;
  SplitBehavior behavior;
  bool invert;
};

class PreSplitter {
 public:
  // Per-call buffers, reused across the texts of one encode call.
  struct Scratch {
    TokenizerRegex::MatchData match_data;
    std::vector<TextSpan> matches;
    std::vector<TextSpan> spans;
    std::vector<TextSpan> next_spans;
  };

  PreSplitter() = default;
  explicit PreSplitter(std::vector<SplitStep> steps) : steps_(std::move(steps)) {}

  // Replaces `pieces` with the pieces of text, in order, as views into text.
  // PRECONDITIONS: text is valid UTF-8.
  Status split(std::string_view text, Scratch& scratch, std::vector<std::string_view>& pieces) const;

 private:
  std::vector<SplitStep> steps_;
};

}  // namespace dsv4
