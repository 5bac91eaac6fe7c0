// Prompt encoder behaviour beyond the golden vectors: reference quirks (expectations produced by
// encoding_dsv4.py), the typed API, the request adapter, and one-line errors for bad input.
#include "text/chat_encoder.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "text/chat_request.h"
#include "text/chat_tokens.h"

namespace dsv4 {
namespace {

// The prompt, or "error: <message>".
std::string render(std::string_view request) {
  Result<std::string> r = render_chat_text(request);
  return r.is_ok() ? r.value() : "error: " + r.status().message();
}

std::string error_of(std::string_view request) {
  Result<std::string> r = render_chat_text(request);
  EXPECT_FALSE(r.is_ok()) << "rendered " << r.value();
  if (r.is_ok()) return "";
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << "error is not one line";
  return r.status().message();
}

struct QuirkCase {
  const char* name;
  const char* request;
  const char* want;
};

// Each `want` is what encode_messages of encoding_dsv4.py returns for the same messages and options.
const QuirkCase kQuirks[] = {
    {"null tool content renders None, absent renders empty",
     R"json({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "", )json"
     R"json("tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, )json"
     R"json({"role": "tool", "tool_call_id": "a", "content": null}, {"role": "tool", "tool_call_id": "a"}], )json"
     R"json("options": {"thinking": false}})json",
     "<｜begin▁of▁sentence｜><｜User｜>q<｜Assistant｜></think>\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke "
     "name=\"f\">\n\n</｜DSML｜invoke>\n</｜DSML｜tool_calls><｜end▁of▁sentence｜><｜User｜><tool_result>None</"
     "tool_result>\n\n<tool_result></tool_result><｜Assistant｜></think>"},
    {"tool content given as parts",
     R"json({"messages": [{"role": "user", "content": "q"}, {"role": "tool", "content": [{"type": "text", )json"
     R"json("text": "t1"}, {"type": "image_url"}, {"text": "x"}, {"type": "text"}]}], )json"
     R"json("options": {"thinking": false}})json",
     "<｜begin▁of▁sentence｜><｜User｜>q\n\n<tool_result>t1\n\n[Unsupported image_url]\n\n[Unsupported "
     "None]\n\n</tool_result><｜Assistant｜></think>"},
    {"latest reminder after a user turn lands after <think>, null content renders None",
     R"json({"messages": [{"role": "user", "content": "q"}, {"role": "latest_reminder"}], )json"
     R"json("options": {"thinking": true}})json",
     "<｜begin▁of▁sentence｜><｜User｜>q<｜Assistant｜><think><｜latest_reminder｜>None"},
    {"results re-ordered into the tool-result slots, unknown id counts as position 0",
     R"json({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "", )json"
     R"json("tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}, )json"
     R"json({"id": "b", "type": "function", "function": {"name": "g", "arguments": "{}"}}]}, {"role": "tool", )json"
     R"json("tool_call_id": "b", "content": "B"}, {"role": "tool", "tool_call_id": "zz", "content": "Z"}, )json"
     R"json({"role": "user", "content": "U"}, {"role": "tool", "tool_call_id": "a", "content": "A"}], )json"
     R"json("options": {"thinking": false}})json",
     "<｜begin▁of▁sentence｜><｜User｜>q<｜Assistant｜></think>\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke "
     "name=\"f\">\n\n</｜DSML｜invoke>\n<｜DSML｜invoke "
     "name=\"g\">\n\n</｜DSML｜invoke>\n</｜DSML｜tool_calls><｜end▁of▁sentence｜><｜User｜><tool_result>Z</"
     "tool_result>\n\n<tool_result>A</tool_result>\n\nU\n\n<tool_result>B</tool_result><｜Assistant｜></think>"},
    {"action task in thinking mode",
     R"json({"messages": [{"role": "user", "content": "classify", "task": "action"}], )json"
     R"json("options": {"thinking": true}})json",
     "<｜begin▁of▁sentence｜><｜User｜>classify<｜Assistant｜><think><｜action｜>"},
    {"a user turn with a task is not merged with the next user message",
     R"json({"messages": [{"role": "user", "content": "q1", "task": "query"}, {"role": "user", "content": "q2"}, )json"
     R"json({"role": "assistant", "content": "out"}], "options": {"thinking": true, "drop_thinking": false}})json",
     "<｜begin▁of▁sentence｜><｜User｜>q1<｜User｜>q2<｜Assistant｜><think></think>out<｜end▁of▁sentence｜>"},
    {"a dropped developer message moves message 0 and its effort prefix",
     R"json({"messages": [{"role": "developer", "content": "dev"}, {"role": "assistant", )json"
     R"json("reasoning_content": "r", "content": "a"}, {"role": "user", "content": "u"}], )json"
     R"json("options": {"thinking": true, "reasoning_effort": "max"}})json",
     "<｜begin▁of▁sentence｜>Reasoning Effort: Absolute maximum with no shortcuts permitted.\nYou MUST be very "
     "thorough in your thinking and comprehensively decompose the problem to resolve the root cause, rigorously "
     "stress-testing your logic against all potential paths, edge cases, and adversarial scenarios.\nExplicitly write "
     "out your entire deliberation process, documenting every intermediate step, considered alternative, and rejected "
     "hypothesis to ensure absolutely no assumption is left "
     "unchecked.\n\na<｜end▁of▁sentence｜><｜User｜>u<｜Assistant｜><think>"},
    {"two assistants in a row, wo_eos, and a late system message glued on",
     R"json({"messages": [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a1"}, )json"
     R"json({"role": "assistant", "content": "a2", "wo_eos": true}, {"role": "system", "content": "late"}], )json"
     R"json("options": {"thinking": false}})json",
     "<｜begin▁of▁sentence｜><｜User｜>u<｜Assistant｜></think>a1<｜end▁of▁sentence｜>a2late"},
    {"tools on an assistant message keep earlier reasoning",
     R"json({"messages": [{"role": "user", "content": "u"}, {"role": "assistant", "reasoning_content": "r1", )json"
     R"json("content": "a1", "tools": [{"type": "function", "function": {"name": "f"}}]}, {"role": "user", )json"
     R"json("content": "v"}], "options": {"thinking": true}})json",
     "<｜begin▁of▁sentence｜><｜User｜>u<｜Assistant｜><think>r1</"
     "think>a1<｜end▁of▁sentence｜><｜User｜>v<｜Assistant｜><think>"},
    {"a falsy response format is not rendered",
     R"json({"messages": [{"role": "system", "content": "s", "response_format": {}}, {"role": "developer", )json"
     R"json("content": "d", "response_format": [0]}], "options": {"thinking": false}})json",
     "<｜begin▁of▁sentence｜>s<｜User｜>d\n\n## Response Format:\n\nYou MUST strictly adhere to the following schema "
     "to reply:\n[0]<｜Assistant｜></think>"},
    {"with a context only the new messages are rendered, without BOS",
     R"json({"messages": [{"role": "user", "content": "u2"}], "options": {"thinking": true, )json"
     R"json("context": [{"role": "user", "content": "u1"}, {"role": "assistant", "reasoning_content": "r1", )json"
     R"json("content": "a1"}]}})json",
     "<｜User｜>u2<｜Assistant｜><think>"},
};

TEST(ChatEncoder, ReproducesReferenceQuirks) {
  for (const QuirkCase& c : kQuirks) EXPECT_EQ(render(c.request), c.want) << c.name;
}

TEST(ChatEncoder, TypedMessagesNeedNoJson) {
  std::vector<ChatMessage> messages(3);
  messages[0].role = ChatRole::kUser;
  messages[0].content = "Weather in Oslo?";
  messages[1].role = ChatRole::kAssistant;
  messages[1].reasoning_content = "Look it up.";
  messages[1].tool_calls.push_back(ChatToolCall{"c1", "weather", R"({"city":"Oslo","days":2})"});
  messages[2].role = ChatRole::kTool;
  messages[2].tool_call_id = "c1";
  messages[2].content = "4 C";
  ChatOptions options;
  options.thinking_mode = ThinkingMode::kThinking;
  options.drop_thinking = false;
  Result<std::string> prompt = encode_chat(messages, options);
  ASSERT_TRUE(prompt.is_ok()) << prompt.status().message();
  EXPECT_EQ(prompt.value(),
            "<｜begin▁of▁sentence｜><｜User｜>Weather in Oslo?<｜Assistant｜><think>Look it up.</think>\n\n"
            "<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"weather\">\n"
            "<｜DSML｜parameter name=\"city\" string=\"true\">Oslo</｜DSML｜parameter>\n"
            "<｜DSML｜parameter name=\"days\" string=\"false\">2</｜DSML｜parameter>\n"
            "</｜DSML｜invoke>\n</｜DSML｜tool_calls><｜end▁of▁sentence｜>"
            "<｜User｜><tool_result>4 C</tool_result><｜Assistant｜><think>");
  options.add_bos = false;
  EXPECT_EQ(encode_chat(messages, options).value(), prompt.value().substr(kBosToken.size()));
}

TEST(ChatEncoder, RequestToolsGoOnALeadingSystemOrDeveloperMessage) {
  const std::string with_developer =
      render(R"({"messages": [{"role": "developer", "content": "d", "tools": [{"function": {"name": "old"}}]}],)"
             R"( "tools": [{"type": "function", "function": {"name": "new"}}], "options": {"thinking": false}})");
  EXPECT_TRUE(with_developer.starts_with("<｜begin▁of▁sentence｜><｜User｜>d\n\n## Tools\n")) << with_developer;
  EXPECT_NE(with_developer.find("\n{\"name\": \"new\"}\n"), std::string::npos);
  EXPECT_EQ(with_developer.find("old"), std::string::npos);

  const std::string inserted = render(R"({"messages": [{"role": "user", "content": "u"}],)"
                                      R"( "tools": [{"function": {"name": "f"}}], "options": {"thinking": true}})");
  EXPECT_TRUE(inserted.starts_with("<｜begin▁of▁sentence｜>\n\n## Tools\n")) << inserted;
  EXPECT_TRUE(inserted.ends_with("tool calls.\n<｜User｜>u<｜Assistant｜><think>")) << inserted;

  EXPECT_EQ(render(R"({"messages": [{"role": "user", "content": "u"}], "tools": [], "options": {"thinking": false}})"),
            "<｜begin▁of▁sentence｜><｜User｜>u<｜Assistant｜></think>");
}

TEST(ChatEncoder, EffortsFollowTheProfile) {
  const auto request = [](std::string_view effort, std::string_view profile) {
    return fmt::format(R"({{"messages": [{{"role": "user", "content": "u"}}], "options": {{"thinking": true, )"
                       R"("reasoning_effort": {}, "profile": "{}"}}}})",
                       effort, profile);
  };
  EXPECT_EQ(render(request("null", "v4-0731")), "<｜begin▁of▁sentence｜><｜User｜>u<｜Assistant｜><think>");
  EXPECT_EQ(render(request("\"low\"", "v4-0731")), "<｜begin▁of▁sentence｜><｜User｜>u<｜Assistant｜><think>");
  EXPECT_TRUE(render(request("\"max\"", "v4-0731")).starts_with("<｜begin▁of▁sentence｜>Reasoning Effort: Beyond"));
  EXPECT_EQ(error_of(request("\"low\"", "v4")),
            "reasoning_effort \"low\" is not valid for chat profile v4 (expected null, max, high)");
  EXPECT_EQ(error_of(request("\"high\"", "v4.1")),
            "options.profile: unknown chat profile \"v4.1\" (known: v4, v4-0731)");
}

TEST(ChatEncoder, RejectsUnknownRoles) {
  EXPECT_EQ(error_of(R"({"messages": [{"role": "bot", "content": "x"}], "options": {"thinking": false}})"),
            "messages[0].role: unknown role \"bot\" (expected system, developer, user, assistant, tool or "
            "latest_reminder)");
  EXPECT_EQ(error_of(R"({"messages": [{"content": "x"}], "options": {"thinking": false}})"),
            "messages[0].role: expected a string");
}

TEST(ChatEncoder, RejectsMalformedToolCalls) {
  const auto with_arguments = [](std::string_view arguments) {
    return fmt::format(
        R"({{"messages": [{{"role": "user", "content": "q"}}, {{"role": "assistant", "tool_calls": )"
        R"([{{"id": "a", "function": {{"name": "f", "arguments": {}}}}}]}}], "options": {{"thinking": false}}}})",
        arguments);
  };
  // JSON that is not an object: the reference crashes; text that is not JSON at all is a golden case.
  EXPECT_EQ(error_of(with_arguments(R"("[1, 2]")")),
            "messages[1].tool_calls[0].function.arguments: expected a JSON object, found an array");
  EXPECT_EQ(error_of(with_arguments(R"("\"text\"")")),
            "messages[1].tool_calls[0].function.arguments: expected a JSON object, found a string");
  EXPECT_EQ(error_of(with_arguments(R"({"city": "Oslo"})")),
            "messages[1].tool_calls[0].function.arguments: expected a string holding JSON, found an object");
  EXPECT_EQ(error_of(with_arguments(R"("{\"s\": \"\\ud800\"}")")).substr(0, 40),
            "rendered prompt is not valid UTF-8 at by");
  EXPECT_NE(render(with_arguments(R"("{\"a\": 1,}")")).find("string=\"true\">{\"a\": 1,}</"), std::string::npos);
  EXPECT_EQ(
      error_of(
          R"({"messages": [{"role": "system", "tools": [{"type": "function"}]}], "options": {"thinking": false}})"),
      "messages[0].tools[0]: expected an object with a \"function\" object");
}

TEST(ChatEncoder, RejectsInvalidUtf8) {
  EXPECT_EQ(
      error_of("{\"messages\": [{\"role\": \"user\", \"content\": \"a\xff\"}], \"options\": {\"thinking\": false}}"),
      "request: invalid UTF-8 at byte 44");
  EXPECT_EQ(error_of(R"({"messages": [{"role": "user", "content": "a\udc00"}], "options": {"thinking": false}})"),
            "messages[0].content: invalid UTF-8 at byte 1");

  nlohmann::ordered_json request = {{"messages", {{{"role", "user"}, {"content", "ok \xc3"}}}},
                                    {"options", {{"thinking", true}}}};
  Result<std::string> from_json = render_chat(request);
  ASSERT_FALSE(from_json.is_ok());
  EXPECT_EQ(from_json.status().message(), "messages[0].content: invalid UTF-8 at byte 3");

  std::vector<ChatMessage> typed(1);
  typed[0].content = "\xe2\x82";
  Result<std::string> from_typed = encode_chat(typed, ChatOptions{});
  ASSERT_FALSE(from_typed.is_ok());
  EXPECT_TRUE(from_typed.status().message().starts_with("rendered prompt is not valid UTF-8"))
      << from_typed.status().message();
}

TEST(ChatEncoder, RejectsWrongTypes) {
  EXPECT_EQ(error_of(R"([])"), "request: expected an object, found an array");
  EXPECT_EQ(error_of(R"({"messages": [], "options": {}})"),
            "options.thinking: expected true (thinking mode) or false (chat mode)");
  EXPECT_EQ(error_of(R"({"messages": {}, "options": {"thinking": true}})"),
            "messages: expected an array of messages, found an object");
  EXPECT_EQ(error_of(R"({"messages": [{"role": "user", "content": 5}], "options": {"thinking": true}})"),
            "messages[0].content: expected a string or null, found a number");
  EXPECT_EQ(
      error_of(R"({"messages": [{"role": "tool", "content": "r", "tool_call_id": 7}], "options": {"thinking": true}})"),
      "messages[0].tool_call_id: expected a string or null, found a number");
  EXPECT_EQ(
      error_of(
          R"({"messages": [{"role": "user", "content": "u", "task": "summarize"}], "options": {"thinking": true}})"),
      "messages[0].task: unknown task \"summarize\" (expected action, query, authority, domain, title or read_url)");
  EXPECT_EQ(error_of(R"({"messages": [{"role": "developer", "content": ""}], "options": {"thinking": true}})"),
            "messages[0]: a developer message needs non-empty content");
  EXPECT_EQ(error_of(R"({"messages": [{"role": "user"}], "options": {"thinking": "yes"}})"),
            "options.thinking: expected true (thinking mode) or false (chat mode)");
  EXPECT_EQ(error_of(R"({"messages": [], "options": {"thinking": true, "drop_thinking": 1}})"),
            "options.drop_thinking: expected a boolean, found a number");
  EXPECT_EQ(error_of(R"({"messages": [], "options": {"thinking": true}} x)"), "request: JSON: extra data at byte 48");
}

// nlohmann::json sorts object keys, which would silently reorder tool schemas: it must not compile.
template <typename J>
concept RenderableRequest = requires(const J& j) {
  render_chat(j);
};
static_assert(RenderableRequest<nlohmann::ordered_json>);
static_assert(!RenderableRequest<nlohmann::json>);

}  // namespace
}  // namespace dsv4
