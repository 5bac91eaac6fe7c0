#include "text/byte_level.h"

#include <array>

#include "text/utf8.h"

namespace dsv4 {

namespace {

constexpr bool stands_for_itself(int b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

constexpr std::array<char32_t, 256> make_byte_to_char() {
  std::array<char32_t, 256> table{};
  char32_t next_shifted = 0x100;
  for (int b = 0; b < 256; ++b) table[size_t(b)] = stands_for_itself(b) ? char32_t(b) : next_shifted++;
  return table;
}

constexpr std::array<char32_t, 256> kByteToChar = make_byte_to_char();

// Every char of the alphabet is below U+0144, so the inverse is a small dense table.
constexpr char32_t kAlphabetEnd = 0x144;

constexpr std::array<int16_t, kAlphabetEnd> make_char_to_byte() {
  std::array<int16_t, kAlphabetEnd> table{};
  for (auto& v : table) v = -1;
  for (int b = 0; b < 256; ++b) table[size_t(kByteToChar[size_t(b)])] = int16_t(b);
  return table;
}

constexpr std::array<int16_t, kAlphabetEnd> kCharToByte = make_char_to_byte();

}  // namespace

char32_t byte_level_char(uint8_t byte) { return kByteToChar[byte]; }

int byte_level_byte(char32_t cp) { return cp < kAlphabetEnd ? kCharToByte[cp] : -1; }

std::string byte_level_encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) append_utf8(kByteToChar[uint8_t(c)], out);
  return out;
}

std::optional<std::string> byte_level_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (utf8_unit_at(text, i).kind != Utf8Unit::kValid) return std::nullopt;
    const int byte = byte_level_byte(decode_utf8(text, i));
    if (byte < 0) return std::nullopt;
    out.push_back(char(byte));
  }
  return out;
}

}  // namespace dsv4
