#include "text/tokenizer_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cstdint>

#include "base/check.h"
#include "text/utf8.h"

namespace dsv4 {

namespace {

// Oniguruma's Unicode `\s`, written as the members of a character class.
constexpr std::string_view kOnigurumaSpace = "\\t-\\r\\x{85}\\p{Z}";

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof(buf));
  return reinterpret_cast<const char*>(buf);
}

}  // namespace

Result<std::string> rewrite_whitespace_escapes(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 64);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\') {
      if (i + 1 == p.size()) return Status::error("pattern ends in a lone backslash");
      const char e = p[++i];
      if (e == 'Q') return Status::error("\\Q...\\E quoting is not supported in tokenizer patterns");
      if (e == 's') {
        out += in_class ? std::string(kOnigurumaSpace) : fmt::format("[{}]", kOnigurumaSpace);
      } else if (e == 'S') {
        if (in_class) return Status::error("\\S inside a character class is not supported in tokenizer patterns");
        out += fmt::format("[^{}]", kOnigurumaSpace);
      } else {
        out += c;
        out += e;
      }
      continue;
    }
    if (in_class) {
      if (c == '[' && i + 1 < p.size() && p[i + 1] == ':') {  // a POSIX class such as [:alpha:]
        const size_t close = p.find(":]", i + 2);
        if (close == std::string_view::npos) return Status::error("unterminated POSIX class at offset {}", i);
        out.append(p.substr(i, close + 2 - i));
        i = close + 1;
        continue;
      }
      if (c == ']') in_class = false;
      out += c;
      continue;
    }
    out += c;
    if (c == '[') {
      in_class = true;
      // A ']' first in a class (after an optional '^') is a member, not the end of the class.
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
    }
  }
  return out;
}

void TokenizerRegex::MatchData::Free::operator()(pcre2_real_match_data_8* p) const { pcre2_match_data_free(p); }
void TokenizerRegex::FreeCode::operator()(pcre2_real_code_8* p) const { pcre2_code_free(p); }
void TokenizerRegex::FreeContext::operator()(pcre2_real_match_context_8* p) const { pcre2_match_context_free(p); }

// Only the whole match is read, so one ovector pair serves every pattern.
TokenizerRegex::MatchData::MatchData() : data_(pcre2_match_data_create(1, nullptr)) { DSV4_CHECK(data_ != nullptr); }

Result<TokenizerRegex> TokenizerRegex::compile(std::string_view pattern) {
  DSV4_ASSIGN_OR_RETURN(const std::string rewritten, rewrite_whitespace_escapes(pattern));
  return compile_rewritten(pattern, rewritten, PCRE2_UTF | PCRE2_UCP);
}

Result<TokenizerRegex> TokenizerRegex::compile_literal(std::string_view text) {
  return compile_rewritten(text, text, PCRE2_LITERAL | PCRE2_UTF);  // PCRE2 refuses UCP with LITERAL
}

Result<TokenizerRegex> TokenizerRegex::compile_rewritten(std::string_view source, std::string_view compiled,
                                                         uint32_t options) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  TokenizerRegex re;
  re.pattern_ = std::string(source);
  re.code_.reset(
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(compiled.data()), compiled.size(), options, &error, &offset, nullptr));
  if (!re.code_) {
    return Status::error("pattern '{}' does not compile: {} (at offset {} of '{}')", source, pcre2_message(error),
                         offset, compiled);
  }
  // Without JIT pcre2_match interprets the same code: slower, same matches.
  pcre2_jit_compile(re.code_.get(), PCRE2_JIT_COMPLETE);
  re.context_.reset(pcre2_match_context_create(nullptr));
  DSV4_CHECK(re.context_ != nullptr);
  // The default limit (10 million backtracking steps) stops `\s*[\r\n]+` on a whitespace run of a few
  // megabytes, which is valid input. These patterns backtrack linearly, so the limit only needs to be large.
  pcre2_set_match_limit(re.context_.get(), UINT32_MAX);
  return re;
}

Status TokenizerRegex::find_all(std::string_view subject, MatchData& md, std::vector<TextSpan>& matches) const {
  const auto* s = reinterpret_cast<PCRE2_SPTR>(subject.data());
  size_t from = 0;
  while (from < subject.size()) {
    const int rc = pcre2_match(code_.get(), s, subject.size(), from, PCRE2_NO_UTF_CHECK, md.get(), context_.get());
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      return Status::error("pattern '{}' failed on a piece of {} bytes: {}", pattern_, subject.size(),
                           pcre2_message(rc));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
    matches.push_back({ov[0], ov[1]});
    if (ov[1] > ov[0]) {
      from = ov[1];
    } else if (ov[1] < subject.size()) {
      from = ov[1] + utf8_unit_at(subject, ov[1]).length;
    } else {
      break;
    }
  }
  return Status::ok();
}

}  // namespace dsv4
