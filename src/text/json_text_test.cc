// Python-exact JSON text (json_text.h): expectations are what CPython 3.11's json module produces.
#include "text/json_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace dsv4 {
namespace {

using std::literals::string_view_literals::operator""sv;

std::string roundtrip(std::string_view text) {
  Result<JsonValue> v = parse_json_text(text);
  if (!v.is_ok()) return "error: " + v.status().message();
  return to_json_text(v.value());
}

TEST(JsonText, FloatsPrintLikePythonRepr) {
  const std::pair<double, std::string_view> cases[] = {
      {1e16, "1e+16"},
      {1e15, "1000000000000000.0"},
      {0.0001, "0.0001"},
      {1e-05, "1e-05"},
      {-0.0, "-0.0"},
      {0.0, "0.0"},
      {1.5e300, "1.5e+300"},
      {5e-324, "5e-324"},
      {0.1 + 0.2, "0.30000000000000004"},
      {123.456, "123.456"},
      {1e22, "1e+22"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {100.0, "100.0"},
      {-1234567890123456.0, "-1234567890123456.0"},
      {12345678901234567.0, "1.2345678901234568e+16"},
      {1.5e-7, "1.5e-07"},
      {0.00001234, "1.234e-05"},
      {std::numeric_limits<double>::infinity(), "Infinity"},
      {-std::numeric_limits<double>::infinity(), "-Infinity"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
  };
  for (const auto& [value, want] : cases) EXPECT_EQ(python_float_repr(value), want) << value;
}

TEST(JsonText, StringsEscapeOnlyWhatPythonEscapes) {
  EXPECT_EQ(json_string("\x00\x1f\x7f/é\u2028😀\"\\\b\f\n\r\t"sv),
            "\"\\u0000\\u001f\x7f/é\u2028😀\\\"\\\\\\b\\f\\n\\r\\t\"");
  EXPECT_EQ(json_string(std::string("a\0b", 3)), "\"a\\u0000b\"");
}

TEST(JsonText, ReadsAndWritesLikePython) {
  EXPECT_EQ(roundtrip(R"( {"b": 1, "a": [1E2, 2.50, -0, -0.0, 12345678901234567890123], "b": {"x": null},)"
                      R"( "c": [NaN, Infinity, -Infinity, 1e400, -1e400, 1e-400, true, false]} )"),
            R"({"b": {"x": null}, "a": [100.0, 2.5, 0, -0.0, 12345678901234567890123], )"
            R"("c": [NaN, Infinity, -Infinity, Infinity, -Infinity, 0.0, true, false]})");
  EXPECT_EQ(roundtrip(R"("\ud83d\ude00\u00E9\/")"), "\"😀é/\"");
  EXPECT_EQ(roundtrip("{\"k\":[1,2,{\"x\":\"y\"}],\"e\":{},\"a\":[]}"),
            R"({"k": [1, 2, {"x": "y"}], "e": {}, "a": []})");
  EXPECT_EQ(roundtrip("\t\r\n 7 \n"), "7");
  EXPECT_EQ(roundtrip("\"\\ud800x\""), "\"\xed\xa0\x80x\"");  // lone surrogate kept (as WTF-8)
}

TEST(JsonText, RejectsWhatPythonRejects) {
  for (const std::string_view bad : {"",
                                     " ",
                                     "[1,]",
                                     "{\"a\":1,}",
                                     "01",
                                     "1.",
                                     ".5",
                                     "+1",
                                     "-",
                                     "1e",
                                     "tru",
                                     "nul",
                                     "[1]x",
                                     "'a'",
                                     "{a:1}",
                                     "\"a\tb\"",
                                     "\"\\x\"",
                                     "\"\\u12\"",
                                     "\"abc",
                                     "[1 2]",
                                     "\f1",
                                     "\xc2\xa0"
                                     "1",
                                     "\xef\xbb\xbf{}",
                                     "-infinity",
                                     "nan",
                                     "[",
                                     "{\"a\" 1}"}) {
    EXPECT_FALSE(parse_json_text(bad).is_ok()) << bad;
  }
}

TEST(JsonText, IntegerDigitLimitIsPythons) {
  EXPECT_TRUE(parse_json_text(std::string(4300, '9')).is_ok());
  EXPECT_FALSE(parse_json_text(std::string(4301, '9')).is_ok());
  EXPECT_TRUE(parse_json_text("-" + std::string(4300, '9')).is_ok());
}

TEST(JsonText, NestingIsBounded) {
  const int ok_depth = kMaxJsonDepth;
  EXPECT_TRUE(parse_json_text(std::string(ok_depth, '[') + std::string(ok_depth, ']')).is_ok());
  EXPECT_FALSE(parse_json_text(std::string(ok_depth + 1, '[') + std::string(ok_depth + 1, ']')).is_ok());
  EXPECT_FALSE(parse_json_text(std::string(100000, '[')).is_ok());
}

TEST(JsonText, TruthinessIsPythons) {
  for (const std::string_view falsy : {"null", "false", "0", "0.0", "-0.0", "\"\"", "[]", "{}"}) {
    EXPECT_FALSE(json_truthy(parse_json_text(falsy).value())) << falsy;
  }
  for (const std::string_view truthy : {"true", "1", "0.5", "NaN", "\"0\"", "[0]", "{\"a\": null}"}) {
    EXPECT_TRUE(json_truthy(parse_json_text(truthy).value())) << truthy;
  }
}

}  // namespace
}  // namespace dsv4
