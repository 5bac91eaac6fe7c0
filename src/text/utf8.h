// UTF-8 rules shared by the tokenizer and the chat format: where text stops being well-formed, decoding and
// encoding code points, and the lossy repair HF tokenizers (Rust's from_utf8_lossy) and the WHATWG decoder
// apply, which replaces each maximal ill-formed subpart with one U+FFFD (Unicode §3.9, "U+FFFD Substitution
// of Maximal Subparts"). Well-formed means Unicode Table 3-7: no overlong forms, no surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF. Functions that write take their output last.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace dsv4 {

// What begins at one offset of a byte string.
struct Utf8Unit {
  enum Kind { kValid, kInvalid, kTruncated };
  Kind kind;
  // kValid: the bytes of the character; kInvalid: the maximal subpart that becomes one U+FFFD;
  // kTruncated: the bytes present of a sequence that is well-formed so far but cut off by the end.
  size_t length;
};

// PRECONDITIONS: pos < s.size().
Utf8Unit utf8_unit_at(std::string_view s, size_t pos);

// Offset of the first byte that does not start a complete well-formed character; s.size() when all do.
size_t utf8_valid_prefix(std::string_view s);
inline bool is_valid_utf8(std::string_view s) { return utf8_valid_prefix(s) == s.size(); }

// Ok when `s` is valid UTF-8; otherwise "<what>: invalid UTF-8 at byte N".
Status check_utf8(std::string_view s, std::string_view what);

// Decodes the character starting at s[pos] and advances pos past it. PRECONDITIONS: that character is
// well-formed (utf8_unit_at says kValid, as everywhere in valid UTF-8).
char32_t decode_utf8(std::string_view s, size_t& pos);

// Appends the UTF-8 encoding of `cp`. PRECONDITIONS: cp is a Unicode scalar value (below U+110000 and not a
// surrogate); use append_wtf8 where a surrogate must pass through.
void append_utf8(char32_t cp, std::string& out);

// append_utf8 that also writes a surrogate, as three bytes (WTF-8): json.loads keeps a lone `\ud800` escape
// as a code point, and JSON text must carry it until a writer checks for valid UTF-8 and refuses it.
// PRECONDITIONS: cp < U+110000.
void append_wtf8(char32_t cp, std::string& out);

// Appends s, with every ill-formed subpart (a truncated tail included) replaced by U+FFFD.
void append_utf8_lossy(std::string_view s, std::string& out);

}  // namespace dsv4
