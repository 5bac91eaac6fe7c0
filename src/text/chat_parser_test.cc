// Completion parser behaviour beyond the golden vectors: the corner cases of chat-format.md §8.1 (each
// checked against parse_message_from_completion_text of encoding_dsv4.py) and the lenient mode of §8.2.
#include "text/chat_parser.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace dsv4 {
namespace {

constexpr std::string_view kEos = "<｜end▁of▁sentence｜>";
constexpr std::string_view kBlockOpen = "\n\n<｜DSML｜tool_calls>\n";
constexpr std::string_view kBlockClose = "\n</｜DSML｜tool_calls>";

std::string invoke(std::string_view name, std::string_view params) {
  return fmt::format("<｜DSML｜invoke name=\"{}\">\n{}\n</｜DSML｜invoke>", name, params);
}

std::string param(std::string_view key, bool is_string, std::string_view value) {
  return fmt::format("<｜DSML｜parameter name=\"{}\" string=\"{}\">{}</｜DSML｜parameter>", key,
                     is_string ? "true" : "false", value);
}

std::string block(std::string_view invokes) { return fmt::format("{}{}{}", kBlockOpen, invokes, kBlockClose); }

// The parse as parse.jsonl's `expected` JSON text, or "error".
std::string parse(std::string_view text, bool thinking, ParseMode mode = ParseMode::kStrict) {
  Result<ParsedMessage> r = parse_completion(text, thinking, mode);
  if (!r.is_ok()) {
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << "error is not one line";
    return "error";
  }
  return to_json(r.value()).dump();
}

std::string lenient(std::string_view text, bool thinking) { return parse(text, thinking, ParseMode::kLenient); }

TEST(ChatParserStrict, ValuesMayHoldTagText) {
  const std::string text =
      "a</think>b" +
      block(invoke("f", param("v", true, "<x> </think> </｜DSML｜invoke> <｜DSML｜invoke name=\"g\">"))) +
      std::string(kEos);
  EXPECT_EQ(parse(text, true),
            R"({"reasoning_content":"a","content":"b","tool_calls":[{"type":"function","function":{"name":"f",)"
            R"("arguments":"{\"v\": \"<x> </think> </｜DSML｜invoke> <｜DSML｜invoke name=\\\"g\\\">\"}"}}]})");
  // "/｜DSML｜parameter" inside a value cannot be represented.
  EXPECT_EQ(parse(block(invoke("f", param("v", true, "a/｜DSML｜parameterb"))), false), "error");
}

TEST(ChatParserStrict, BlockBoundaries) {
  // Stopping right after START is content with no calls; a third line feed stays in the content.
  EXPECT_EQ(parse("Hi\n\n<｜DSML｜tool_calls", false), R"({"reasoning_content":"","content":"Hi","tool_calls":[]})");
  EXPECT_EQ(parse("Hi\n\n\n<｜DSML｜tool_calls>\n</｜DSML｜tool_calls>" + std::string(kEos), false),
            R"({"reasoning_content":"","content":"Hi\n","tool_calls":[]})");
  // Without the blank line the block is not recognised, and the content then lacks its EOS.
  EXPECT_EQ(parse("Hi\n<｜DSML｜tool_calls>\n</｜DSML｜tool_calls>", false), "error");
  // A truncated invoke header still yields its call, as in the reference.
  EXPECT_EQ(parse("\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"f\">\n", false),
            R"({"reasoning_content":"","content":"",)"
            R"("tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]})");
}

TEST(ChatParserStrict, TagLayoutFollowsTheReferenceRegexes) {
  const std::string want_empty_call = R"({"reasoning_content":"","content":"",)"
                                      R"("tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]})";
  EXPECT_EQ(parse(block("<｜DSML｜invoke name=\"f\">\n</｜DSML｜invoke>"), false), want_empty_call);
  EXPECT_EQ(parse(block("<｜DSML｜invoke  \t name=\"f\">\n</｜DSML｜invoke>"), false), want_empty_call);
  EXPECT_EQ(parse(block("<｜DSML｜invoke name=\"f\">\n\n\n</｜DSML｜invoke>"), false), "error");
  // Python's `$` also matches before a final line feed, so "<\n/｜DSML｜parameter" closes a value.
  EXPECT_EQ(
      parse(block(invoke("f", "<｜DSML｜parameter name=\"v\" string=\"false\">[1]<\n/｜DSML｜parameter>")), false),
      R"({"reasoning_content":"","content":"",)"
      R"("tool_calls":[{"type":"function","function":{"name":"f","arguments":"{\"v\": [1]}"}}]})");
  EXPECT_EQ(parse(block(invoke("f", "<｜DSML｜parameter name=\"v\" string=\"maybe\">1</｜DSML｜parameter>")), false),
            "error");
  EXPECT_EQ(parse(block(invoke("f", param("v", true, "1") + "\n\n" + param("w", true, "2"))), false), "error");
}

TEST(ChatParserStrict, RejectsSpecialTokensInTextAndBadUtf8) {
  EXPECT_EQ(parse("use <｜DSML｜invoke</think>ok" + std::string(kEos), true), "error");
  EXPECT_EQ(parse("<｜begin▁of▁sentence｜>x" + std::string(kEos), false), "error");
  EXPECT_EQ(parse("ok\xff" + std::string(kEos), false), "error");
  EXPECT_EQ(lenient("ok\xff", false), "error");
  Result<ParsedMessage> r = parse_completion("\xc3", false, ParseMode::kStrict);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "completion: invalid UTF-8 at byte 0");
}

TEST(ChatParserLenient, ToleratesTruncation) {
  EXPECT_EQ(lenient("Hello there", false), R"({"reasoning_content":"","content":"Hello there","tool_calls":[]})");
  EXPECT_EQ(lenient("still thinking...", true),
            R"({"reasoning_content":"still thinking...","content":"","tool_calls":[]})");
  EXPECT_EQ(lenient("r</think>Answer." + std::string(kEos) + "junk", true),
            R"({"reasoning_content":"r","content":"Answer.","tool_calls":[]})");
  // A cut-off last parameter is dropped; the call and its complete parameters are kept.
  EXPECT_EQ(lenient("Let me check. <｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"f\">\n" + param("a", true, "x") +
                        "\n<｜DSML｜parameter name=\"b\" string=\"true\">partial",
                    false),
            R"({"reasoning_content":"","content":"Let me check.",)"
            R"("tool_calls":[{"type":"function","function":{"name":"f","arguments":"{\"a\": \"x\"}"}}]})");
  EXPECT_EQ(lenient("x\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke na", false),
            R"({"reasoning_content":"","content":"x","tool_calls":[]})");
}

TEST(ChatParserLenient, ToleratesSpacingAndNormalisesJsonValues) {
  const std::string text =
      "<｜DSML｜tool_calls >\n<｜DSML｜invoke  name = \"f\" >\n"
      "<｜DSML｜parameter name=\"n\"  string=\"false\" >[1,2,  3]</｜DSML｜parameter >\n"
      "<｜DSML｜parameter string=\"false\" name=\"bad\">yes please</｜DSML｜parameter>\n"
      "<｜DSML｜parameter name=\"s\">raw \"text\"</｜DSML｜parameter>\n"
      "<｜DSML｜parameter name=\"n\" string=\"false\">{\"a\":1.50}</｜DSML｜parameter>\n"
      "</｜DSML｜invoke>\n<｜DSML｜invoke name=\"g\">\n\n</｜DSML｜invoke>";
  EXPECT_EQ(lenient(text, false),
            R"({"reasoning_content":"","content":"","tool_calls":[{"type":"function","function":{"name":"f",)"
            R"("arguments":"{\"n\": {\"a\": 1.5}, \"bad\": \"yes please\", \"s\": \"raw \\\"text\\\"\"}"}},)"
            R"({"type":"function","function":{"name":"g","arguments":"{}"}}]})");
  // DSML-looking text in the reasoning is kept there.
  EXPECT_EQ(lenient("see <｜DSML｜invoke</think>ok", true),
            R"({"reasoning_content":"see <｜DSML｜invoke","content":"ok","tool_calls":[]})");
}

TEST(ChatParser, JsonShapeMatchesTheReference) {
  ParsedMessage m{"r", "c", {ParsedToolCall{"f", "{}"}}};
  EXPECT_EQ(to_json(m).dump(), R"({"reasoning_content":"r","content":"c",)"
                               R"("tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]})");
}

}  // namespace
}  // namespace dsv4
