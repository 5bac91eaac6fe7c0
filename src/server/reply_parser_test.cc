#include "server/reply_parser.h"

#include <gtest/gtest.h>

#include <random>

#include "text/chat_parser.h"
#include "text/dsml_writer.h"

namespace dsv4 {
namespace {

struct Collected {
  std::string reasoning, content;
  std::vector<ReplyToolCall> calls;
};

// Feeds `text` in pieces of random sizes and joins the deltas.
Collected stream(std::string_view text, bool thinking, uint64_t seed) {
  ReplyParser p(thinking);
  Collected c;
  const auto take = [&](const ReplyDelta& d) {
    c.reasoning += d.reasoning;
    c.content += d.content;
    for (const ToolCallDelta& t : d.tool_calls) {
      if (t.index == int(c.calls.size())) {
        EXPECT_FALSE(t.name.empty()) << "a call's first delta names the function";
        c.calls.push_back({t.name, ""});
      }
      EXPECT_EQ(t.index, int(c.calls.size()) - 1);
      c.calls.back().arguments += t.arguments;
    }
  };
  std::mt19937_64 rng(seed);
  for (size_t at = 0; at < text.size();) {
    const size_t n = std::min<size_t>(text.size() - at, 1 + rng() % 7);
    take(p.push(text.substr(at, n)));
    at += n;
  }
  take(p.finish());
  EXPECT_EQ(c.reasoning, p.reasoning());
  EXPECT_EQ(c.content, p.content());
  EXPECT_EQ(c.calls.size(), p.tool_calls().size());
  return c;
}

std::string dsml(const std::vector<ChatToolCall>& calls) {
  std::string out;
  EXPECT_TRUE(append_dsml_tool_calls(out, calls, chat_profile_v4().dsml, "test").is_ok());
  return out;
}

void expect_like_lenient_parser(const std::string& text, bool thinking) {
  SCOPED_TRACE(text);
  Result<ParsedMessage> ref = parse_completion(text, thinking, ParseMode::kLenient);
  ASSERT_TRUE(ref.is_ok());
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const Collected c = stream(text, thinking, seed);
    EXPECT_EQ(c.reasoning, ref->reasoning_content);
    EXPECT_EQ(c.content, ref->content);
    ASSERT_EQ(c.calls.size(), ref->tool_calls.size());
    for (size_t i = 0; i < c.calls.size(); ++i) {
      EXPECT_EQ(c.calls[i].name, ref->tool_calls[i].name);
      EXPECT_EQ(c.calls[i].arguments, ref->tool_calls[i].arguments);
    }
  }
}

TEST(ReplyParser, PlainContentAndReasoning) {
  expect_like_lenient_parser("Hello, world. <b>not a tag</b> </thin", false);
  expect_like_lenient_parser("Let me think </thi about it.</think>The answer is 4.", true);
  expect_like_lenient_parser("still thinking, cut off", true);
}

TEST(ReplyParser, ToolCallsMatchTheLenientParser) {
  const std::string block = dsml({{"", "get_weather", R"({"city": "Lisbon", "days": 3, "units": null})"},
                                  {"", "noop", "{}"},
                                  {"", "plan", R"({"steps": ["a", {"b": [1, 2.5, true]}], "note": "x</y> \"q\""})"}});
  expect_like_lenient_parser("Sure.\n\n" + block, false);
  expect_like_lenient_parser("thinking</think>\n\n" + block, true);
  expect_like_lenient_parser(block, false);
}

TEST(ReplyParser, NoDsmlReachesTheContent) {
  const std::string block = dsml({{"", "f", R"({"a": "1"})"}});
  for (size_t cut = 0; cut <= block.size(); ++cut) {
    ReplyParser p(false);
    ReplyDelta d = p.push("Text " + block.substr(0, cut));
    const ReplyDelta end = p.finish();
    EXPECT_EQ((d.content + end.content).find("DSML"), std::string::npos) << cut;
    EXPECT_EQ(p.content().substr(0, 4), "Text");
  }
}

TEST(ReplyParser, TruncatedCallIsClosed) {
  const std::string block = dsml({{"", "search", R"({"query": "deep seek", "limit": 10})"}});
  const size_t cut = block.find("deep") + 4;  // inside the first parameter's value
  const Collected c = stream(block.substr(0, cut), false, 3);
  ASSERT_EQ(c.calls.size(), 1u);
  EXPECT_EQ(c.calls[0].name, "search");
  EXPECT_EQ(c.calls[0].arguments, R"({"query": "deep"})");
}

TEST(ReplyParser, ArgumentsStreamOnePieceePerParameter) {
  const std::string block = dsml({{"", "f", R"({"a": "x", "b": 2})"}});
  ReplyParser p(false);
  std::vector<std::string> pieces;
  for (char ch : block)
    for (const ToolCallDelta& t : p.push(std::string(1, ch)).tool_calls) pieces.push_back(t.arguments);
  for (const ToolCallDelta& t : p.finish().tool_calls) pieces.push_back(t.arguments);
  EXPECT_EQ(pieces, (std::vector<std::string>{"", "{\"a\": \"x\"", ", \"b\": 2", "}"}));
}

}  // namespace
}  // namespace dsv4
