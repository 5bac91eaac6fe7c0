// OpenAI-style request bodies (POST /v1/chat/completions and /v1/completions) → what the scheduler needs:
// the prompt text, generation options and response flags. Every rejection is an ApiError with the HTTP
// status and the OpenAI error fields, naming the offending parameter.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "app/constraint.h"
#include "app/generate.h"

namespace dsv4 {

struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // empty: null
  std::string code;   // empty: null
};

nlohmann::ordered_json to_json(const ApiError& e);

enum class ToolChoice { kAuto, kNone, kRequired, kNamed };

struct ApiRequest {
  bool chat = true;          // /v1/chat/completions (else /v1/completions)
  std::string model;
  std::string prompt;        // the rendered chat prompt, or the completion prompt
  bool prompt_has_bos = true;  // the chat encoder writes BOS itself; a completion prompt gets it at encoding
  bool thinking = false;     // the prompt ends inside the reasoning block
  bool has_tools = false;    // tools were rendered into the prompt
  ToolChoice tool_choice = ToolChoice::kAuto;
  // Constrained decoding: tool_choice required / named (a DSML tool call) or response_format
  // json_object / json_schema (JSON); null when the output is free.
  std::shared_ptr<const Grammar> grammar;
  GenerateOptions options;   // max_tokens 0 here means "what the context leaves"
  bool max_tokens_given = false;
  bool stream = false;
  bool include_usage = false;
  bool logprobs = false;
  int top_logprobs = 0;
};

// `served_model`: the id /v1/models lists; a request naming another model fails with 404.
std::variant<ApiRequest, ApiError> parse_chat_request(std::string_view body, const std::string& served_model);
std::variant<ApiRequest, ApiError> parse_completion_request(std::string_view body, const std::string& served_model);

}  // namespace dsv4
