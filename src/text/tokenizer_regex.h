// A tokenizer.json Split pattern compiled with PCRE2 (8-bit, UTF + UCP, JIT), matching the way HF tokenizers
// runs it through Oniguruma. The one difference between the two dialects that these patterns meet is `\s`:
// Oniguruma's Unicode `\s` is U+0009..U+000D, U+0085 and the Z categories, while PCRE2 with UCP also counts
// U+180E. Patterns are rewritten to spell out Oniguruma's set. (The JavaScript reference, whose `\s` adds
// U+FEFF and drops U+0085, differs from both; dsv4 follows HF.) Character properties come from PCRE2's own
// Unicode tables (10.42: Unicode 14), so characters assigned later count as unassigned.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

struct pcre2_real_code_8;
struct pcre2_real_match_data_8;
struct pcre2_real_match_context_8;

namespace dsv4 {

struct TextSpan {
  size_t begin;
  size_t end;
};

// Rewrites `\s` and `\S` into explicit classes holding Oniguruma's Unicode whitespace. Fails on `\S` inside
// a character class and on `\Q...\E` quoting, which cannot be rewritten token by token.
Result<std::string> rewrite_whitespace_escapes(std::string_view pattern);

class TokenizerRegex {
 public:
  // Match state: one per thread (an encode call makes its own), reused across patterns and calls.
  class MatchData {
   public:
    MatchData();
    pcre2_real_match_data_8* get() const { return data_.get(); }

   private:
    struct Free {
      void operator()(pcre2_real_match_data_8* p) const;
    };
    std::unique_ptr<pcre2_real_match_data_8, Free> data_;
  };

  static Result<TokenizerRegex> compile(std::string_view pattern);
  // A pattern that matches `text` literally (tokenizer.json's {"String": ...} form).
  static Result<TokenizerRegex> compile_literal(std::string_view text);

  // Appends to `matches` every match in subject, left to right, as Oniguruma's iterator finds them: an
  // empty match is kept (as an empty span) and the search resumes one character after it.
  // PRECONDITIONS: subject is valid UTF-8. Fails only when PCRE2 gives up (its JIT stack), naming the size.
  Status find_all(std::string_view subject, MatchData& md, std::vector<TextSpan>& matches) const;

 private:
  struct FreeCode {
    void operator()(pcre2_real_code_8* p) const;
  };
  struct FreeContext {
    void operator()(pcre2_real_match_context_8* p) const;
  };

  static Result<TokenizerRegex> compile_rewritten(std::string_view source, std::string_view compiled, uint32_t options);

  std::string pattern_;  // as written in tokenizer.json, for messages
  std::unique_ptr<pcre2_real_code_8, FreeCode> code_;
  std::unique_ptr<pcre2_real_match_context_8, FreeContext> context_;  // read-only once built: shareable
};

}  // namespace dsv4
