// JSON text exactly as Python's json module reads (json.loads) and writes (json.dumps with
// ensure_ascii=False and default separators) it: chat-format.md §7. The chat format serialises tool
// schemas, response formats and tool-call arguments this way, so a general JSON library is not enough:
// key order must be kept, integers keep every digit, floats print like Python's repr, and NaN/Infinity
// are accepted. JsonValue is the small ordered DOM those rules need; it owns no chat knowledge.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace dsv4 {

struct JsonMember;

// A JSON value as Python holds it after json.loads: an object keeps its first-seen key order and has
// unique keys; an integer is exact (its canonical decimal text); a float is an IEEE double.
struct JsonValue {
  enum class Kind : uint8_t { kNull, kBool, kInt, kFloat, kString, kArray, kObject };

  Kind kind = Kind::kNull;
  bool boolean = false;             // kBool
  double number = 0;                // kFloat
  std::string text;                 // kString: UTF-8 (WTF-8 where a \u escape left a lone surrogate);
                                    // kInt: decimal digits with an optional '-', never "-0"
  std::vector<JsonValue> items;     // kArray
  std::vector<JsonMember> members;  // kObject, in first-seen key order

  static JsonValue make_bool(bool b);
  static JsonValue make_int(std::string decimal);
  static JsonValue make_float(double d);
  static JsonValue make_string(std::string s);
  static JsonValue make_array();
  static JsonValue make_object();

  bool is_null() const { return kind == Kind::kNull; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_array() const { return kind == Kind::kArray; }
  bool is_object() const { return kind == Kind::kObject; }
  // The member named `key`, or nullptr (also when this is not an object).
  const JsonValue* find(std::string_view key) const;
};

struct JsonMember {
  std::string key;
  JsonValue value;
};

// Deepest nesting the reader and writer accept. Python's own limit comes from its recursion limit and
// depends on the caller's stack (about 990 levels from the reference encoder); ours only has to bound
// recursion, and no real schema or argument object comes near it.
inline constexpr int kMaxJsonDepth = 900;

// json.loads: standard JSON plus NaN, Infinity and -Infinity; only space, tab, CR and LF count as
// whitespace; control characters inside strings are rejected; `\uXXXX` escapes are decoded, pairing
// surrogates; duplicate keys keep their first position and their last value; integers with more than
// 4300 digits are rejected (CPython 3.11's int conversion limit, which the reference ran under).
// Bytes outside escapes are copied as they are: callers validate UTF-8.
Result<JsonValue> parse_json_text(std::string_view text);

// json.dumps(value, ensure_ascii=False): ", " and ": " separators, non-ASCII written raw.
std::string to_json_text(const JsonValue& value);
void append_json_text(std::string& out, const JsonValue& value);

// The JSON string literal of `s` (quotes included): escapes `"` `\` \b \f \n \r \t, other code points
// below U+0020 as lower-case \u00xx, everything else raw.
void append_json_string(std::string& out, std::string_view s);
std::string json_string(std::string_view s);

// json_string of at most the first `max_bytes` of `s` (cut at a character boundary, "..." appended when
// cut): quotes client text inside one-line error messages without its line feeds or its full length.
std::string json_string_preview(std::string_view s, size_t max_bytes = 64);

// float.__repr__ as json.dumps writes it: shortest round-trip digits, positional for exponents -4..15,
// otherwise d.ddde+XX; NaN, Infinity and -Infinity for the non-finite values.
std::string python_float_repr(double d);

// Python truthiness of the value (`if response_format:`): null, false, 0, 0.0, "", [] and {} are false.
bool json_truthy(const JsonValue& value);

// Human-readable kind name for error messages ("an object", "a string", ...).
std::string_view json_kind_name(const JsonValue& value);

}  // namespace dsv4
