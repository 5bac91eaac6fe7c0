// GPT-2's byte-level alphabet, as HF tokenizers' ByteLevel pre-tokenizer and decoder use it: each of the 256
// byte values is written as one printable code point, so that a byte-level BPE vocabulary can be stored as
// JSON text. Bytes that are printable Latin-1 ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the other
// 68 take U+0100, U+0101, ... in byte order (so ' ' is 'Ġ' U+0120 and '\n' is 'Ċ' U+010A).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dsv4 {

char32_t byte_level_char(uint8_t byte);

// The byte that code point cp stands for, or -1 when cp is not in the alphabet.
int byte_level_byte(char32_t cp);

// The byte-level text (UTF-8) of raw bytes: what tokenizer.json's vocabulary and merges are written in.
std::string byte_level_encode(std::string_view bytes);

// The raw bytes behind byte-level text; nullopt when the text is not valid UTF-8 or holds a code point
// outside the alphabet (as the contents of added tokens do).
std::optional<std::string> byte_level_decode(std::string_view text);

}  // namespace dsv4
