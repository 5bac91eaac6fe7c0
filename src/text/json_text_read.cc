// Reading JSON text the way CPython 3.11's json.loads does (its C scanner, chat-format.md §7.2): the
// reference encoder parses tool-call `arguments` with it, and whatever json.loads rejects is rendered
// as the raw string instead, so accepting or rejecting exactly the same texts matters for the prompt.
#include "text/json_text.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <unordered_map>
#include <utility>

#include "text/utf8.h"

namespace dsv4 {
namespace {

// CPython >= 3.11 refuses int() of a decimal string longer than this (sys.get_int_max_str_digits()).
constexpr size_t kMaxIntDigits = 4300;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  Result<JsonValue> read_document() {
    skip_whitespace();
    JsonValue v;
    DSV4_RETURN_IF_ERROR(read_value(v, 0));
    skip_whitespace();
    if (pos_ != s_.size()) return error("extra data");
    return v;
  }

 private:
  Status error(std::string_view what) const { return Status::error("JSON: {} at byte {}", what, pos_); }

  void skip_whitespace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  static Status assign(JsonValue& out, JsonValue v) {
    out = std::move(v);
    return Status::ok();
  }

  bool consume(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Status read_value(JsonValue& out, int depth) {
    if (pos_ >= s_.size()) return error("expecting value");
    const char c = s_[pos_];
    if (c == '"') {
      out.kind = JsonValue::Kind::kString;
      return read_string(out.text);
    }
    if (c == '{' || c == '[') {
      if (depth >= kMaxJsonDepth) return error("nesting too deep");
      return c == '{' ? read_object(out, depth + 1) : read_array(out, depth + 1);
    }
    constexpr double kInf = std::numeric_limits<double>::infinity();
    if (consume("null")) return Status::ok();
    if (consume("true")) return assign(out, JsonValue::make_bool(true));
    if (consume("false")) return assign(out, JsonValue::make_bool(false));
    if (is_digit(c) || (c == '-' && pos_ + 1 < s_.size() && is_digit(s_[pos_ + 1]))) return read_number(out);
    if (consume("NaN")) return assign(out, JsonValue::make_float(std::numeric_limits<double>::quiet_NaN()));
    if (consume("Infinity")) return assign(out, JsonValue::make_float(kInf));
    if (consume("-Infinity")) return assign(out, JsonValue::make_float(-kInf));
    return error("expecting value");
  }

  // Grammar -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?, ASCII digits only. A '.' or exponent that is
  // not followed by a digit ends the number before it (the rest is then extra data).
  Status read_number(JsonValue& out) {
    const size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    const size_t int_start = pos_;
    if (s_[pos_] == '0') {
      ++pos_;
    } else {
      while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
    }
    const size_t int_end = pos_;
    bool is_float = false;
    if (pos_ + 1 < s_.size() && s_[pos_] == '.' && is_digit(s_[pos_ + 1])) {
      is_float = true;
      pos_ += 2;
      while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      size_t p = pos_ + 1;
      if (p < s_.size() && (s_[p] == '+' || s_[p] == '-')) ++p;
      if (p < s_.size() && is_digit(s_[p])) {
        is_float = true;
        while (p < s_.size() && is_digit(s_[p])) ++p;
        pos_ = p;
      }
    }
    const std::string_view literal = s_.substr(start, pos_ - start);
    if (!is_float) {
      if (int_end - int_start > kMaxIntDigits) return error("integer has more than 4300 digits");
      out = JsonValue::make_int(literal == "-0" ? "0" : std::string(literal));
      return Status::ok();
    }
    double d = 0;
    const auto res = std::from_chars(literal.data(), literal.data() + literal.size(), d);
    if (res.ec == std::errc::result_out_of_range) {
      d = overflows(literal) ? std::numeric_limits<double>::infinity() : 0.0;
      if (literal[0] == '-') d = -d;
    } else if (res.ec != std::errc() || res.ptr != literal.data() + literal.size()) {
      return error("bad number");
    }
    out = JsonValue::make_float(d);
    return Status::ok();
  }

  // For a float literal out of double range: true when its magnitude is >= 1 (Python gives +-inf),
  // false when it is tiny (Python rounds it to zero).
  static bool overflows(std::string_view literal) {
    bool seen_point = false;
    long long digits_before_point = 0;
    long long first_sig = -1;  // position of the first non-zero digit among all mantissa digits
    long long index = 0;
    size_t i = literal[0] == '-' ? 1 : 0;
    for (; i < literal.size() && literal[i] != 'e' && literal[i] != 'E'; ++i) {
      if (literal[i] == '.') {
        seen_point = true;
        continue;
      }
      if (!seen_point) ++digits_before_point;
      if (first_sig < 0 && literal[i] != '0') first_sig = index;
      ++index;
    }
    long long e = 0;
    if (i < literal.size()) {
      ++i;
      const bool negative = literal[i] == '-';
      if (literal[i] == '+' || literal[i] == '-') ++i;
      for (; i < literal.size(); ++i) e = std::min<long long>(e * 10 + (literal[i] - '0'), 1'000'000'000);
      if (negative) e = -e;
    }
    if (first_sig < 0) return false;                      // all zeros: never out of range
    return digits_before_point - 1 - first_sig + e >= 0;  // decimal exponent of the leading digit
  }

  Status read_string(std::string& out) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= s_.size()) return error("unterminated string");
      const char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        return Status::ok();
      }
      if (static_cast<unsigned char>(c) < 0x20) return error("invalid control character in string");
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      if (pos_ + 1 >= s_.size()) return error("unterminated string");
      const char e = s_[pos_ + 1];
      pos_ += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          char32_t cp = 0;
          DSV4_RETURN_IF_ERROR(read_hex4(cp));
          // A high surrogate joins a directly following low-surrogate escape; anything else leaves it
          // alone, as Python does (the lone surrogate then cannot be written as UTF-8).
          if (cp >= 0xD800 && cp <= 0xDBFF && s_.substr(pos_, 2) == "\\u") {
            const size_t save = pos_;
            pos_ += 2;
            char32_t low = 0;
            DSV4_RETURN_IF_ERROR(read_hex4(low));
            if (low >= 0xDC00 && low <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else {
              pos_ = save;
            }
          }
          append_wtf8(cp, out);
          break;
        }
        default: pos_ -= 2; return error("invalid escape");
      }
    }
  }

  Status read_hex4(char32_t& cp) {
    if (s_.size() - pos_ < 4) return error("invalid \\uXXXX escape");
    for (int k = 0; k < 4; ++k) {
      const int h = hex_value(s_[pos_ + k]);
      if (h < 0) return error("invalid \\uXXXX escape");
      cp = cp * 16 + static_cast<char32_t>(h);
    }
    pos_ += 4;
    return Status::ok();
  }

  Status read_array(JsonValue& out, int depth) {
    out = JsonValue::make_array();
    ++pos_;
    skip_whitespace();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return Status::ok();
    }
    while (true) {
      out.items.emplace_back();
      DSV4_RETURN_IF_ERROR(read_value(out.items.back(), depth));
      skip_whitespace();
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return Status::ok();
      }
      if (pos_ >= s_.size() || s_[pos_] != ',') return error("expecting ',' delimiter");
      ++pos_;
      skip_whitespace();
    }
  }

  Status read_object(JsonValue& out, int depth) {
    out = JsonValue::make_object();
    std::unordered_map<std::string, size_t> index;  // key -> position in members, for duplicate keys
    ++pos_;
    skip_whitespace();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return Status::ok();
    }
    while (true) {
      if (pos_ >= s_.size() || s_[pos_] != '"') return error("expecting property name enclosed in double quotes");
      std::string key;
      DSV4_RETURN_IF_ERROR(read_string(key));
      skip_whitespace();
      if (pos_ >= s_.size() || s_[pos_] != ':') return error("expecting ':' delimiter");
      ++pos_;
      skip_whitespace();
      JsonValue value;
      DSV4_RETURN_IF_ERROR(read_value(value, depth));
      // Python builds a dict: a repeated key keeps its first position and takes the last value.
      const auto [it, inserted] = index.emplace(key, out.members.size());
      if (inserted) {
        out.members.push_back(JsonMember{std::move(key), std::move(value)});
      } else {
        out.members[it->second].value = std::move(value);
      }
      skip_whitespace();
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return Status::ok();
      }
      if (pos_ >= s_.size() || s_[pos_] != ',') return error("expecting ',' delimiter");
      ++pos_;
      skip_whitespace();
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

Result<JsonValue> parse_json_text(std::string_view text) { return Reader(text).read_document(); }

}  // namespace dsv4
