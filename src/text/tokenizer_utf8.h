// UTF-8 rules the tokenizer and the stream decoder share: where text stops being well-formed, and the lossy
// repair HF tokenizers (Rust's from_utf8_lossy) and the WHATWG decoder apply, which replaces each maximal
// ill-formed subpart with one U+FFFD (Unicode §3.9, "U+FFFD Substitution of Maximal Subparts").
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

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

// Appends s, with every ill-formed subpart (a truncated tail included) replaced by U+FFFD.
void append_utf8_lossy(std::string_view s, std::string& out);

// PRECONDITIONS: cp < 0x110000 and is not a surrogate.
void append_utf8(char32_t cp, std::string& out);

}  // namespace dsv4
