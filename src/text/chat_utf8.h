// UTF-8 helpers for the chat format (chat-format.md §1): validation, code-point decoding, and Python's
// notion of whitespace. The reference encoder and parser work on Python str (code points); on valid UTF-8,
// substring search on bytes finds the same matches, so the chat code only needs code points where the
// reference uses a regex class (`\s`) or where it must reject bytes that are not text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace dsv4 {

// Byte offset of the first byte that does not start a well-formed UTF-8 sequence (overlong forms,
// surrogates U+D800..U+DFFF and values above U+10FFFF are ill-formed), or npos when `s` is valid.
size_t find_invalid_utf8(std::string_view s);

// Ok when `s` is valid UTF-8; otherwise "<what>: invalid UTF-8 at byte N".
Status check_utf8(std::string_view s, std::string_view what);

// Decodes the code point starting at s[pos] and advances pos past it. PRECONDITION: `s` is valid UTF-8.
char32_t decode_utf8(std::string_view s, size_t& pos);

// Appends `cp` as UTF-8. Surrogates are written as three bytes (WTF-8) so that a lone `\ud800` escape in
// JSON survives as Python keeps it; find_invalid_utf8 later reports such text as not writable.
void append_utf8(std::string& out, char32_t cp);

// Python's str.isspace(), which is also what `\s` matches in the reference's str regexes.
bool is_python_space(char32_t cp);

// On valid UTF-8: the position after the run of Python whitespace that starts at `pos`, and `s` without
// its trailing Python whitespace (Python's str.rstrip()).
size_t skip_python_space(std::string_view s, size_t pos);
std::string_view rtrim_python_space(std::string_view s);

}  // namespace dsv4
