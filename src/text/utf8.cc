// UTF-8 validation, decoding, encoding and lossy repair; see utf8.h.
#include "text/utf8.h"

#include <cstdint>
#include <cstring>

#include "base/check.h"

namespace dsv4 {

namespace {
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
}  // namespace

Utf8Unit utf8_unit_at(std::string_view s, size_t pos) {
  const auto b0 = uint8_t(s[pos]);
  if (b0 < 0x80) return {Utf8Unit::kValid, 1};
  // Table 3-7 of the Unicode standard: the lead byte fixes the length and narrows the second byte's range,
  // which excludes overlong forms, surrogates and code points above U+10FFFF.
  size_t need = 0;
  uint8_t lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {Utf8Unit::kInvalid, 1};
  }
  for (size_t i = 1; i < need; ++i) {
    if (pos + i >= s.size()) return {Utf8Unit::kTruncated, i};
    const auto b = uint8_t(s[pos + i]);
    const bool ok = i == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    if (!ok) return {Utf8Unit::kInvalid, i};
  }
  return {Utf8Unit::kValid, need};
}

size_t utf8_valid_prefix(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // ASCII dominates most prompts; skip it eight bytes at a time.
    if (i + 8 <= s.size()) {
      uint64_t word;
      std::memcpy(&word, s.data() + i, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    const Utf8Unit u = utf8_unit_at(s, i);
    if (u.kind != Utf8Unit::kValid) return i;
    i += u.length;
  }
  return s.size();
}

Status check_utf8(std::string_view s, std::string_view what) {
  const size_t valid = utf8_valid_prefix(s);
  if (valid == s.size()) return Status::ok();
  return Status::error("{}: invalid UTF-8 at byte {}", what, valid);
}

char32_t decode_utf8(std::string_view s, size_t& pos) {
  const auto c = uint8_t(s[pos]);
  size_t len = 1;
  char32_t cp = c;
  if (c >= 0xF0) {
    len = 4, cp = c & 0x07;
  } else if (c >= 0xE0) {
    len = 3, cp = c & 0x0F;
  } else if (c >= 0xC0) {
    len = 2, cp = c & 0x1F;
  }
  for (size_t k = 1; k < len && pos + k < s.size(); ++k) cp = (cp << 6) | (uint8_t(s[pos + k]) & 0x3F);
  pos += len;
  return cp;
}

void append_utf8(char32_t cp, std::string& out) {
  DSV4_DCHECK(cp < 0xD800 || cp > 0xDFFF);
  append_wtf8(cp, out);
}

void append_wtf8(char32_t cp, std::string& out) {
  DSV4_DCHECK(cp < 0x110000);
  if (cp < 0x80) {
    out.push_back(char(cp));
  } else if (cp < 0x800) {
    out.push_back(char(0xC0 | (cp >> 6)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(char(0xE0 | (cp >> 12)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (cp >> 18)));
    out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  }
}

void append_utf8_lossy(std::string_view s, std::string& out) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t valid = utf8_valid_prefix(s.substr(i));
    out.append(s.substr(i, valid));
    i += valid;
    if (i == s.size()) break;
    out.append(kReplacement);
    i += utf8_unit_at(s, i).length;
  }
}

}  // namespace dsv4
