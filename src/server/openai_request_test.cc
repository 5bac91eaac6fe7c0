#include "server/openai_request.h"

#include <gtest/gtest.h>

#include "text/chat_tokens.h"

namespace dsv4 {
namespace {

ApiRequest ok(const std::variant<ApiRequest, ApiError>& v) {
  if (const auto* e = std::get_if<ApiError>(&v)) ADD_FAILURE() << e->message;
  return std::holds_alternative<ApiRequest>(v) ? std::get<ApiRequest>(v) : ApiRequest{};
}

ApiError error(const std::variant<ApiRequest, ApiError>& v) {
  EXPECT_TRUE(std::holds_alternative<ApiError>(v));
  return std::holds_alternative<ApiError>(v) ? std::get<ApiError>(v) : ApiError{};
}

TEST(OpenAiRequest, ChatFieldsAndPrompt) {
  const ApiRequest r = ok(parse_chat_request(
      R"({"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
          "temperature": 0, "top_p": 0.5, "seed": 7, "stop": ["x", "y"], "max_completion_tokens": 9,
          "stream": true, "stream_options": {"include_usage": true}, "logprobs": true, "top_logprobs": 2})",
      "m"));
  EXPECT_EQ(r.prompt, std::string(kBosToken) + std::string(kUserToken) + "Hi" + std::string(kAssistantToken) +
                          std::string(kThinkEnd));
  EXPECT_FALSE(r.thinking);
  EXPECT_EQ(r.options.sampling.temperature, 0.0f);
  EXPECT_EQ(r.options.sampling.top_p, 0.5f);
  EXPECT_EQ(r.options.sampling.seed, 7u);
  EXPECT_EQ(r.options.stop, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(r.options.max_tokens, 9);
  EXPECT_TRUE(r.stream && r.include_usage && r.logprobs);
  EXPECT_EQ(r.options.sampling.top_logprobs, 2);
}

TEST(OpenAiRequest, ThinkingAndTools) {
  const ApiRequest r = ok(parse_chat_request(
      R"({"model": "m", "messages": [{"role": "user", "content": "Hi"}], "reasoning_effort": "max",
          "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]})",
      "m"));
  EXPECT_TRUE(r.thinking);
  EXPECT_TRUE(r.has_tools);
  EXPECT_NE(r.prompt.find("## Tools"), std::string::npos);
  EXPECT_EQ(r.prompt.substr(r.prompt.size() - kThinkStart.size()), kThinkStart);
  const ApiRequest off = ok(parse_chat_request(
      R"({"model": "m", "messages": [{"role": "user", "content": "Hi"}], "reasoning_effort": "high",
          "chat_template_kwargs": {"thinking": false}, "tool_choice": "none",
          "tools": [{"type": "function", "function": {"name": "f"}}]})",
      "m"));
  EXPECT_FALSE(off.thinking);
  EXPECT_FALSE(off.has_tools);
  EXPECT_EQ(off.prompt.find("## Tools"), std::string::npos);
}

TEST(OpenAiRequest, Errors) {
  EXPECT_EQ(error(parse_chat_request("{not json", "m")).status, 400);
  EXPECT_EQ(error(parse_chat_request("[1]", "m")).status, 400);
  const ApiError unknown = error(parse_chat_request(R"({"model": "gpt-9", "messages": []})", "m"));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.code, "model_not_found");
  const ApiError type = error(parse_chat_request(R"({"model": "m", "messages": [{"role": "user", "content": "a"}],
                                                    "temperature": "hot"})", "m"));
  EXPECT_EQ(type.param, "temperature");
  EXPECT_NE(type.message.find("must be a number"), std::string::npos) << type.message;
  EXPECT_EQ(error(parse_chat_request(R"({"model": "m", "messages": "hi"})", "m")).param, "messages");
  EXPECT_EQ(error(parse_chat_request(R"({"model": "m", "messages": [{"role": "bot", "content": "a"}]})", "m")).param,
            "messages");
  EXPECT_EQ(error(parse_chat_request(R"({"model": "m", "messages": [{"role": "user", "content": "a"}], "n": 2})", "m"))
                .param,
            "n");
  EXPECT_EQ(error(parse_completion_request(R"({"model": "m", "prompt": 5})", "m")).param, "prompt");
  const ApiRequest c = ok(parse_completion_request(R"({"model": "m", "prompt": ["once"]})", "m"));
  EXPECT_EQ(c.prompt, "once");
  EXPECT_EQ(c.options.max_tokens, 16);
}

}  // namespace
}  // namespace dsv4
