// Writing JSON text the way Python's json.dumps(ensure_ascii=False) does (chat-format.md §7.1), plus the
// JsonValue helpers. The float format follows float.__repr__ ('r' format, shortest round-trip digits).
#include "text/json_text.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "base/check.h"

namespace dsv4 {

JsonValue JsonValue::make_bool(bool b) { return {.kind = Kind::kBool, .boolean = b}; }
JsonValue JsonValue::make_int(std::string decimal) { return {.kind = Kind::kInt, .text = std::move(decimal)}; }
JsonValue JsonValue::make_float(double d) { return {.kind = Kind::kFloat, .number = d}; }
JsonValue JsonValue::make_string(std::string s) { return {.kind = Kind::kString, .text = std::move(s)}; }
JsonValue JsonValue::make_array() { return {.kind = Kind::kArray}; }
JsonValue JsonValue::make_object() { return {.kind = Kind::kObject}; }

const JsonValue* JsonValue::find(std::string_view key) const {
  for (const JsonMember& m : members) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string json_string_preview(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return json_string(s);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return json_string(s.substr(0, cut)) + "...";
}

std::string python_float_repr(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";

  // Shortest round-trip digits in scientific form, "d[.ddd]e±X"; Python picks the same digits (the
  // shortest string that reads back as d, nearest to d on ties).
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), std::fabs(d), std::chars_format::scientific);
  DSV4_CHECK(res.ec == std::errc());
  const std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  const size_t e_pos = sci.find('e');
  DSV4_CHECK(e_pos != std::string_view::npos);
  std::string digits;
  for (const char c : sci.substr(0, e_pos)) {
    if (c != '.') digits += c;
  }
  const int exp10 = std::atoi(std::string(sci.substr(e_pos + 1)).c_str());
  const int point = exp10 + 1;  // value = 0.d1d2...dn * 10^point
  const int n = static_cast<int>(digits.size());

  std::string out = d < 0 ? "-" : "";
  if (point > -4 && point <= 16) {
    if (point <= 0) {
      out += "0.";
      out.append(static_cast<size_t>(-point), '0');
      out += digits;
    } else if (point < n) {
      out += digits.substr(0, static_cast<size_t>(point));
      out += '.';
      out += digits.substr(static_cast<size_t>(point));
    } else {
      out += digits;
      out.append(static_cast<size_t>(point - n), '0');
      out += ".0";
    }
    return out;
  }
  out += digits[0];
  if (n > 1) {
    out += '.';
    out += digits.substr(1);
  }
  const int e = point - 1;
  out += e < 0 ? "e-" : "e+";
  const int abs_e = e < 0 ? -e : e;
  if (abs_e < 10) out += '0';
  out += std::to_string(abs_e);
  return out;
}

void append_json_text(std::string& out, const JsonValue& value) {
  switch (value.kind) {
    case JsonValue::Kind::kNull: out += "null"; break;
    case JsonValue::Kind::kBool: out += value.boolean ? "true" : "false"; break;
    case JsonValue::Kind::kInt: out += value.text; break;
    case JsonValue::Kind::kFloat: out += python_float_repr(value.number); break;
    case JsonValue::Kind::kString: append_json_string(out, value.text); break;
    case JsonValue::Kind::kArray:
      out += '[';
      for (size_t i = 0; i < value.items.size(); ++i) {
        if (i > 0) out += ", ";
        append_json_text(out, value.items[i]);
      }
      out += ']';
      break;
    case JsonValue::Kind::kObject:
      out += '{';
      for (size_t i = 0; i < value.members.size(); ++i) {
        if (i > 0) out += ", ";
        append_json_string(out, value.members[i].key);
        out += ": ";
        append_json_text(out, value.members[i].value);
      }
      out += '}';
      break;
  }
}

std::string to_json_text(const JsonValue& value) {
  std::string out;
  append_json_text(out, value);
  return out;
}

bool json_truthy(const JsonValue& value) {
  switch (value.kind) {
    case JsonValue::Kind::kNull: return false;
    case JsonValue::Kind::kBool: return value.boolean;
    case JsonValue::Kind::kInt: return value.text != "0";
    case JsonValue::Kind::kFloat: return value.number != 0;  // NaN is true, as in Python
    case JsonValue::Kind::kString: return !value.text.empty();
    case JsonValue::Kind::kArray: return !value.items.empty();
    case JsonValue::Kind::kObject: return !value.members.empty();
  }
  return false;
}

std::string_view json_kind_name(const JsonValue& value) {
  switch (value.kind) {
    case JsonValue::Kind::kNull: return "null";
    case JsonValue::Kind::kBool: return "a boolean";
    case JsonValue::Kind::kInt:
    case JsonValue::Kind::kFloat: return "a number";
    case JsonValue::Kind::kString: return "a string";
    case JsonValue::Kind::kArray: return "an array";
    case JsonValue::Kind::kObject: return "an object";
  }
  return "a value";
}

}  // namespace dsv4
