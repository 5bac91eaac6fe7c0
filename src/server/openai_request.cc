#include "server/openai_request.h"

#include <fmt/format.h>

#include <random>

#include "text/chat_encoder.h"
#include "text/chat_request.h"

namespace dsv4 {

namespace {

using Json = nlohmann::ordered_json;
using Parsed = std::variant<ApiRequest, ApiError>;

ApiError bad(std::string param, std::string message) {
  return {.status = 400, .message = std::move(message), .param = std::move(param)};
}

const char* type_name(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "an object";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a number";
    default: return "an invalid value";
  }
}

ApiError wrong_type(const std::string& param, const char* expected, const Json& v) {
  return bad(param, fmt::format("'{}' must be {}, not {}", param, expected, type_name(v)));
}

// Reads the fields both endpoints share. Returns an error or nothing.
std::optional<ApiError> read_common(const Json& body, const std::string& served_model, ApiRequest& r) {
  const auto it = body.find("model");
  if (it == body.end()) return bad("model", "'model' is required");
  if (!it->is_string()) return wrong_type("model", "a string", *it);
  r.model = it->get<std::string>();
  if (r.model != served_model) {
    return ApiError{.status = 404,
                    .message = fmt::format("the model '{}' does not exist (this server serves '{}')", r.model, served_model),
                    .param = "model",
                    .code = "model_not_found"};
  }
  const auto number = [&](const char* key, double lo, double hi, auto& out) -> std::optional<ApiError> {
    const auto v = body.find(key);
    if (v == body.end() || v->is_null()) return std::nullopt;
    if (!v->is_number()) return wrong_type(key, "a number", *v);
    const double d = v->get<double>();
    if (!(d >= lo && d <= hi)) return bad(key, fmt::format("'{}' must be between {} and {}", key, lo, hi));
    out = static_cast<std::remove_reference_t<decltype(out)>>(d);
    return std::nullopt;
  };
  const auto integer = [&](const char* key, int64_t lo, int64_t hi, int64_t& out) -> std::optional<ApiError> {
    const auto v = body.find(key);
    if (v == body.end() || v->is_null()) return std::nullopt;
    if (!v->is_number_integer()) return wrong_type(key, "an integer", *v);
    if (v->is_number_unsigned() ? v->get<uint64_t>() > uint64_t(hi) : (v->get<int64_t>() < lo || v->get<int64_t>() > hi))
      return bad(key, fmt::format("'{}' must be between {} and {}", key, lo, hi));
    out = v->is_number_unsigned() ? int64_t(v->get<uint64_t>()) : v->get<int64_t>();
    return std::nullopt;
  };
  const auto boolean = [&](const Json& obj, const char* key, const std::string& param, bool& out) -> std::optional<ApiError> {
    const auto v = obj.find(key);
    if (v == obj.end() || v->is_null()) return std::nullopt;
    if (!v->is_boolean()) return wrong_type(param, "a boolean", *v);
    out = v->get<bool>();
    return std::nullopt;
  };
  SamplingParams& s = r.options.sampling;
  if (auto e = number("temperature", 0.0, 2.0, s.temperature)) return e;
  if (auto e = number("top_p", 0.0, 1.0, s.top_p)) return e;
  if (auto e = number("presence_penalty", -2.0, 2.0, s.presence_penalty)) return e;
  if (auto e = number("frequency_penalty", -2.0, 2.0, s.frequency_penalty)) return e;
  int64_t min_tokens = 0;
  if (auto e = integer("min_tokens", 0, int64_t(1) << 30, min_tokens)) return e;  // vLLM's extension
  r.options.min_tokens = int(min_tokens);
  int64_t top_k = 0;
  if (auto e = integer("top_k", 0, 1 << 20, top_k)) return e;  // a common extension
  s.top_k = int(top_k);
  int64_t max_tokens = 0;
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    if (body.contains(key) && !body[key].is_null()) {
      if (auto e = integer(key, 1, int64_t(1) << 30, max_tokens)) return e;
      r.max_tokens_given = true;
    }
  }
  r.options.max_tokens = int(max_tokens);
  if (const auto v = body.find("seed"); v != body.end() && !v->is_null()) {
    if (!v->is_number_integer()) return wrong_type("seed", "an integer", *v);
    s.seed = v->is_number_unsigned() ? v->get<uint64_t>() : uint64_t(v->get<int64_t>());
  } else {
    s.seed = std::random_device{}() * 0x9E3779B97F4A7C15ull + std::random_device{}();
  }
  int64_t n = 1;
  if (auto e = integer("n", 1, 1 << 20, n)) return e;
  if (n != 1) return bad("n", "only n = 1 is supported");
  if (const auto v = body.find("stop"); v != body.end() && !v->is_null()) {
    if (v->is_string()) {
      r.options.stop.push_back(v->get<std::string>());
    } else if (v->is_array() && v->size() <= 4) {
      for (const Json& x : *v) {
        if (!x.is_string()) return wrong_type("stop", "a string or an array of up to 4 strings", *v);
        r.options.stop.push_back(x.get<std::string>());
      }
    } else {
      return wrong_type("stop", "a string or an array of up to 4 strings", *v);
    }
  }
  if (auto e = boolean(body, "stream", "stream", r.stream)) return e;
  if (const auto v = body.find("stream_options"); v != body.end() && !v->is_null()) {
    if (!v->is_object()) return wrong_type("stream_options", "an object", *v);
    if (auto e = boolean(*v, "include_usage", "stream_options.include_usage", r.include_usage)) return e;
  }
  return std::nullopt;
}

Json parse_body(std::string_view body, std::optional<ApiError>& error) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    error = bad("", "the request body is not valid JSON");
  } else if (!j.is_object()) {
    error = bad("", "the request body must be a JSON object");
  }
  return j;
}

// OpenAI content given as a list of parts ({"type": "text", "text": ...}) becomes one string; the V4
// format keeps lists for tool results only (chat_request.h reads those itself).
std::optional<ApiError> flatten_content(Json& message, size_t i) {
  auto c = message.find("content");
  if (c == message.end() || !c->is_array() || message.value("role", "") == "tool") return std::nullopt;
  std::string text;
  for (const Json& part : *c) {
    const auto t = part.find("text");
    if (!part.is_object() || part.value("type", "") != "text" || t == part.end() || !t->is_string())
      return bad(fmt::format("messages[{}].content", i), "only text content parts are supported");
    text += t->get<std::string>();
  }
  *c = text;
  return std::nullopt;
}

}  // namespace

Json to_json(const ApiError& e) {
  return {{"error",
           {{"message", e.message},
            {"type", e.type},
            {"param", e.param.empty() ? Json(nullptr) : Json(e.param)},
            {"code", e.code.empty() ? Json(nullptr) : Json(e.code)}}}};
}

Parsed parse_chat_request(std::string_view text, const std::string& served_model) {
  std::optional<ApiError> error;
  Json body = parse_body(text, error);
  if (error) return *error;
  ApiRequest r;
  r.chat = true;
  if (auto e = read_common(body, served_model, r)) return *e;

  const auto messages = body.find("messages");
  if (messages == body.end()) return bad("messages", "'messages' is required");
  if (!messages->is_array() || messages->empty()) return bad("messages", "'messages' must be a non-empty array");
  Json request = {{"messages", *messages}};
  for (size_t i = 0; i < request["messages"].size(); ++i) {
    Json& m = request["messages"][i];
    if (!m.is_object()) return bad(fmt::format("messages[{}]", i), fmt::format("messages[{}] must be an object", i));
    if (auto e = flatten_content(m, i)) return *e;
  }

  // Tools and tool_choice.
  if (const auto tools = body.find("tools"); tools != body.end() && !tools->is_null()) {
    if (!tools->is_array()) return wrong_type("tools", "an array", *tools);
    for (size_t i = 0; i < tools->size(); ++i) {
      const Json& t = (*tools)[i];
      const auto fn = t.is_object() ? t.find("function") : t.end();
      if (!t.is_object() || fn == t.end() || !fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string())
        return bad(fmt::format("tools[{}]", i), fmt::format("tools[{}] must be {{\"type\": \"function\", \"function\": "
                                                            "{{\"name\": ...}}}}", i));
    }
    r.has_tools = !tools->empty();
    request["tools"] = *tools;
  }
  if (const auto tc = body.find("tool_choice"); tc != body.end() && !tc->is_null()) {
    if (tc->is_string()) {
      const std::string c = tc->get<std::string>();
      if (c == "auto") r.tool_choice = ToolChoice::kAuto;
      else if (c == "none") r.tool_choice = ToolChoice::kNone;
      else if (c == "required") r.tool_choice = ToolChoice::kRequired;
      else return bad("tool_choice", "'tool_choice' must be \"auto\", \"none\", \"required\" or a named function");
    } else if (tc->is_object() && tc->contains("function") && (*tc)["function"].is_object() &&
               (*tc)["function"].contains("name") && (*tc)["function"]["name"].is_string()) {
      r.tool_choice = ToolChoice::kNamed;
    } else {
      return bad("tool_choice", "'tool_choice' must be \"auto\", \"none\", \"required\" or a named function");
    }
    if ((r.tool_choice == ToolChoice::kRequired || r.tool_choice == ToolChoice::kNamed) && !r.has_tools)
      return bad("tool_choice", "'tool_choice' requires 'tools'");
  }
  if (r.tool_choice == ToolChoice::kNone) {  // the model is not shown the tools, so it cannot call them
    request.erase("tools");
    r.has_tools = false;
  }
  std::optional<Json> json_schema;
  bool json_object = false;
  if (const auto rf = body.find("response_format"); rf != body.end() && !rf->is_null()) {
    if (!rf->is_object() || !rf->contains("type") || !(*rf)["type"].is_string())
      return bad("response_format", "'response_format' must be an object with a 'type'");
    const std::string type = (*rf)["type"].get<std::string>();
    if (type == "json_schema") {
      const auto js = rf->find("json_schema");
      if (js == rf->end() || !js->is_object() || !js->contains("schema"))
        return bad("response_format.json_schema", "'response_format.json_schema.schema' is required");
      json_schema = (*js)["schema"];
    } else if (type == "json_object") {
      json_object = true;
    } else if (type != "text") {
      return bad("response_format.type", fmt::format("unknown response_format type '{}'", type));
    }
  }

  // Thinking (chat-format.md §9.4): chat_template_kwargs.thinking / enable_thinking, else on when a
  // reasoning effort other than "none" is given. Effort names map onto the profile's high / max.
  std::optional<std::string> effort;
  bool thinking = false;
  if (const auto e = body.find("reasoning_effort"); e != body.end() && !e->is_null()) {
    if (!e->is_string()) return wrong_type("reasoning_effort", "a string", *e);
    const std::string v = e->get<std::string>();
    thinking = v != "none";
    if (v == "max" || v == "xhigh") effort = "max";
    else if (v == "high" || v == "medium" || v == "low" || v == "minimal") effort = "high";
    else if (v != "none") return bad("reasoning_effort", fmt::format("unknown reasoning_effort '{}'", v));
  }
  if (const auto k = body.find("chat_template_kwargs"); k != body.end() && !k->is_null()) {
    if (!k->is_object()) return wrong_type("chat_template_kwargs", "an object", *k);
    for (const char* key : {"enable_thinking", "thinking"}) {
      if (const auto v = k->find(key); v != k->end() && !v->is_null()) {
        if (!v->is_boolean()) return wrong_type(std::string("chat_template_kwargs.") + key, "a boolean", *v);
        thinking = v->get<bool>();
      }
    }
  }
  r.thinking = thinking;
  request["options"] = {{"thinking", thinking}, {"reasoning_effort", thinking && effort ? Json(*effort) : Json(nullptr)}};

  if (auto e = body.find("logprobs"); e != body.end() && !e->is_null()) {
    if (!e->is_boolean()) return wrong_type("logprobs", "a boolean", *e);
    r.logprobs = e->get<bool>();
  }
  if (auto e = body.find("top_logprobs"); e != body.end() && !e->is_null()) {
    if (!e->is_number_integer() || e->get<int64_t>() < 0 || e->get<int64_t>() > 20)
      return bad("top_logprobs", "'top_logprobs' must be an integer between 0 and 20");
    r.top_logprobs = int(e->get<int64_t>());
    if (!r.logprobs && r.top_logprobs > 0) return bad("top_logprobs", "'top_logprobs' requires 'logprobs': true");
  }
  r.options.logprobs = r.logprobs;
  r.options.sampling.top_logprobs = r.top_logprobs;

  // Constrained decoding. A forced tool call wins over a response format (the reply is the call).
  if (r.tool_choice == ToolChoice::kRequired || r.tool_choice == ToolChoice::kNamed) {
    std::vector<JsonValue> functions;
    for (const Json& t : request["tools"]) {
      Result<JsonValue> fn = json_value_from(t["function"]);
      if (!fn) return bad("tools", fn.status().message());
      functions.push_back(std::move(fn.value()));
    }
    const std::string only =
        r.tool_choice == ToolChoice::kNamed ? body["tool_choice"]["function"]["name"].get<std::string>() : "";
    auto g = tool_call_grammar(functions, only, thinking, chat_profile_v4().dsml);
    if (!g) return bad(only.empty() ? "tools" : "tool_choice", g.status().message());
    r.grammar = std::move(g.value());
  } else if (json_schema) {
    Result<JsonValue> schema = json_value_from(*json_schema);
    if (!schema) return bad("response_format.json_schema.schema", schema.status().message());
    auto g = json_schema_grammar(schema.value(), thinking);
    if (!g) return bad("response_format.json_schema.schema", g.status().message());
    r.grammar = std::move(g.value());
  } else if (json_object) {
    r.grammar = json_object_grammar(thinking);
  }

  Result<JsonValue> value = json_value_from(request);
  if (!value) return bad("messages", value.status().message());
  Result<ChatRequest> chat = chat_request_from_json(value.value());
  if (!chat) return bad("messages", chat.status().message());
  Result<std::string> prompt = encode_chat(chat->messages, chat->options);
  if (!prompt) return bad("messages", prompt.status().message());
  r.prompt = std::move(prompt.value());
  r.prompt_has_bos = true;
  return r;
}

Parsed parse_completion_request(std::string_view text, const std::string& served_model) {
  std::optional<ApiError> error;
  Json body = parse_body(text, error);
  if (error) return *error;
  ApiRequest r;
  r.chat = false;
  if (auto e = read_common(body, served_model, r)) return *e;
  const auto p = body.find("prompt");
  if (p == body.end()) return bad("prompt", "'prompt' is required");
  if (p->is_string()) {
    r.prompt = p->get<std::string>();
  } else if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) {
    r.prompt = (*p)[0].get<std::string>();
  } else {
    return wrong_type("prompt", "a string (or an array of one string)", *p);
  }
  r.prompt_has_bos = false;
  if (auto e = body.find("logprobs"); e != body.end() && !e->is_null()) {
    if (!e->is_number_integer() || e->get<int64_t>() < 0 || e->get<int64_t>() > 5)
      return bad("logprobs", "'logprobs' must be an integer between 0 and 5");
    r.logprobs = true;
    r.top_logprobs = int(e->get<int64_t>());
  }
  r.options.logprobs = r.logprobs;
  r.options.sampling.top_logprobs = r.top_logprobs;
  if (!r.max_tokens_given) {
    r.options.max_tokens = 16;  // the OpenAI default for completions
    r.max_tokens_given = true;
  }
  return r;
}

}  // namespace dsv4
