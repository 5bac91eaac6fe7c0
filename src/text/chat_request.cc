// JSON request -> typed chat messages (chat-format.md §3); see chat_request.h. Field defaults follow
// encoding_dsv4.py where it reads a field with a default (a tool's content defaults to "", a tool call's
// id falls back to function.id); input the reference would crash on is reported as an error.
#include "text/chat_request.h"

#include <nlohmann/json.hpp>

#include "text/chat_encoder.h"
#include "text/utf8.h"

namespace dsv4 {
namespace {

// Checks every key and string of `v` for valid UTF-8. `path` is the JSON path of `v`; it is extended in
// place while descending and restored on return.
Status check_strings(const JsonValue& v, std::string& path) {
  if (v.is_string()) return check_utf8(v.text, path);
  const size_t len = path.size();
  for (size_t i = 0; i < v.items.size(); ++i) {
    path += fmt::format("[{}]", i);
    DSV4_RETURN_IF_ERROR(check_strings(v.items[i], path));
    path.resize(len);
  }
  for (const JsonMember& m : v.members) {
    if (!is_valid_utf8(m.key)) return Status::error("{}: a key is not valid UTF-8", path);
    path += path.empty() ? m.key : "." + m.key;
    DSV4_RETURN_IF_ERROR(check_strings(m.value, path));
    path.resize(len);
  }
  return Status::ok();
}

Status type_error(std::string_view path, std::string_view expected, const JsonValue& found) {
  return Status::error("{}: expected {}, found {}", path, expected, json_kind_name(found));
}

// A string member that may be absent or null (nullopt).
Result<std::optional<std::string>> optional_string(const JsonValue& obj, std::string_view key, std::string_view path) {
  const JsonValue* v = obj.find(key);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return type_error(fmt::format("{}.{}", path, key), "a string or null", *v);
  return std::optional<std::string>(v->text);
}

Result<bool> optional_bool(const JsonValue& obj, std::string_view key, std::string_view path, bool fallback) {
  const JsonValue* v = obj.find(key);
  if (v == nullptr || v->is_null()) return fallback;
  if (v->kind != JsonValue::Kind::kBool) return type_error(fmt::format("{}.{}", path, key), "a boolean", *v);
  return v->boolean;
}

// An OpenAI tool list: [{"type": "function", "function": {...}}, ...] -> the function objects.
Result<std::vector<JsonValue>> read_tools(const JsonValue& v, std::string_view path) {
  std::vector<JsonValue> functions;
  if (v.is_null()) return functions;
  if (!v.is_array()) return type_error(path, "an array of tools", v);
  for (size_t i = 0; i < v.items.size(); ++i) {
    const JsonValue* fn = v.items[i].find("function");
    if (fn == nullptr || !fn->is_object()) {
      return Status::error("{}[{}]: expected an object with a \"function\" object", path, i);
    }
    functions.push_back(*fn);
  }
  return functions;
}

Result<std::vector<ChatToolCall>> read_tool_calls(const JsonValue& v, std::string_view path) {
  std::vector<ChatToolCall> calls;
  if (v.is_null()) return calls;
  if (!v.is_array()) return type_error(path, "an array of tool calls", v);
  for (size_t i = 0; i < v.items.size(); ++i) {
    const std::string at = fmt::format("{}[{}]", path, i);
    const JsonValue* fn = v.items[i].find("function");
    if (fn == nullptr || !fn->is_object()) {
      return Status::error("{}: expected an object with a \"function\" object", at);
    }
    ChatToolCall call;
    const JsonValue* name = fn->find("name");
    if (name == nullptr || !name->is_string()) return Status::error("{}.function.name: expected a string", at);
    call.name = name->text;
    const JsonValue* args = fn->find("arguments");
    if (args == nullptr || !args->is_string()) {
      return Status::error("{}.function.arguments: expected a string holding JSON, found {}", at,
                           args ? json_kind_name(*args) : "nothing");
    }
    call.arguments = args->text;
    // The reference takes `id or function.id`: an empty id falls back too.
    DSV4_ASSIGN_OR_RETURN(std::optional<std::string> id, optional_string(v.items[i], "id", at));
    if (!id || id->empty()) {
      DSV4_ASSIGN_OR_RETURN(id, optional_string(*fn, "id", at + ".function"));
    }
    call.id = id.value_or("");
    calls.push_back(std::move(call));
  }
  return calls;
}

Result<std::vector<ChatContentPart>> read_content_parts(const JsonValue& v, std::string_view path) {
  std::vector<ChatContentPart> parts;
  for (size_t i = 0; i < v.items.size(); ++i) {
    const std::string at = fmt::format("{}[{}]", path, i);
    if (!v.items[i].is_object()) return type_error(at, "an object", v.items[i]);
    ChatContentPart part;
    DSV4_ASSIGN_OR_RETURN(part.type, optional_string(v.items[i], "type", at));
    if (part.type == "text") {
      const JsonValue* text = v.items[i].find("text");
      if (text != nullptr && !text->is_string()) return type_error(at + ".text", "a string", *text);
      if (text != nullptr) part.text = text->text;
    }
    parts.push_back(std::move(part));
  }
  return parts;
}

Status read_content(const JsonValue& v, ChatMessage& m, std::string_view path) {
  const JsonValue* content = v.find("content");
  if (content == nullptr) {
    if (m.role == ChatRole::kTool) m.content = "";
    return Status::ok();
  }
  if (content->is_null()) return Status::ok();
  if (content->is_string()) {
    m.content = content->text;
    return Status::ok();
  }
  const std::string at = fmt::format("{}.content", path);
  if (content->is_array() && m.role == ChatRole::kTool) {
    DSV4_ASSIGN_OR_RETURN(m.content_parts, read_content_parts(*content, at));
    return Status::ok();
  }
  return type_error(at, m.role == ChatRole::kTool ? "a string, a list of parts or null" : "a string or null", *content);
}

Result<ChatMessage> read_message(const JsonValue& v, std::string_view path) {
  if (!v.is_object()) return type_error(path, "a message object", v);
  ChatMessage m;
  const JsonValue* role = v.find("role");
  if (role == nullptr || !role->is_string()) return Status::error("{}.role: expected a string", path);
  const std::optional<ChatRole> parsed_role = chat_role_from_name(role->text);
  if (!parsed_role) {
    return Status::error("{}.role: unknown role {} (expected system, developer, user, assistant, tool or "
                         "latest_reminder)",
                         path, json_string_preview(role->text));
  }
  m.role = *parsed_role;
  DSV4_RETURN_IF_ERROR(read_content(v, m, path));

  DSV4_ASSIGN_OR_RETURN(const std::optional<std::string> task, optional_string(v, "task", path));
  if (task) {
    m.task = chat_task_from_name(*task);
    if (!m.task) {
      return Status::error("{}.task: unknown task {} (expected action, query, authority, domain, title or read_url)",
                           path, json_string_preview(*task));
    }
  }
  // Tools and response formats on user and tool messages are discarded by the reference; not read.
  if (m.role != ChatRole::kUser && m.role != ChatRole::kTool) {
    if (const JsonValue* tools = v.find("tools")) {
      DSV4_ASSIGN_OR_RETURN(m.tools, read_tools(*tools, fmt::format("{}.tools", path)));
    }
    if (const JsonValue* format = v.find("response_format")) m.response_format = *format;
  }
  if (m.role == ChatRole::kAssistant) {
    DSV4_ASSIGN_OR_RETURN(m.reasoning_content, optional_string(v, "reasoning_content", path));
    if (const JsonValue* calls = v.find("tool_calls")) {
      DSV4_ASSIGN_OR_RETURN(m.tool_calls, read_tool_calls(*calls, fmt::format("{}.tool_calls", path)));
    }
    DSV4_ASSIGN_OR_RETURN(m.wo_eos, optional_bool(v, "wo_eos", path, false));
  }
  if (m.role == ChatRole::kTool) {
    DSV4_ASSIGN_OR_RETURN(const std::optional<std::string> id, optional_string(v, "tool_call_id", path));
    m.tool_call_id = id.value_or("");
  }
  return m;
}

Result<std::vector<ChatMessage>> read_messages(const JsonValue& v, std::string_view path) {
  if (!v.is_array()) return type_error(path, "an array of messages", v);
  std::vector<ChatMessage> messages;
  for (size_t i = 0; i < v.items.size(); ++i) {
    DSV4_ASSIGN_OR_RETURN(ChatMessage m, read_message(v.items[i], fmt::format("{}[{}]", path, i)));
    messages.push_back(std::move(m));
  }
  return messages;
}

Status read_options(const JsonValue* v, ChatRequest& request) {
  if (v == nullptr || !v->is_object()) {
    return Status::error("options: expected an object with at least \"thinking\" (true or false)");
  }
  const JsonValue* thinking = v->find("thinking");
  if (thinking == nullptr || thinking->kind != JsonValue::Kind::kBool) {
    return Status::error("options.thinking: expected true (thinking mode) or false (chat mode)");
  }
  ChatOptions& o = request.options;
  o.thinking_mode = thinking->boolean ? ThinkingMode::kThinking : ThinkingMode::kChat;
  DSV4_ASSIGN_OR_RETURN(o.reasoning_effort, optional_string(*v, "reasoning_effort", "options"));
  DSV4_ASSIGN_OR_RETURN(o.drop_thinking, optional_bool(*v, "drop_thinking", "options", true));
  DSV4_ASSIGN_OR_RETURN(o.add_bos, optional_bool(*v, "add_bos", "options", true));
  DSV4_ASSIGN_OR_RETURN(const std::optional<std::string> profile, optional_string(*v, "profile", "options"));
  if (profile) {
    Result<const ChatProfile*> found = find_chat_profile(*profile);
    if (!found.is_ok()) return found.status().with_context("options.profile: ");
    o.profile = found.value();
  }
  if (const JsonValue* context = v->find("context"); context != nullptr && !context->is_null()) {
    DSV4_ASSIGN_OR_RETURN(request.context, read_messages(*context, "options.context"));
  }
  return Status::ok();
}

}  // namespace

Result<ChatRequest> chat_request_from_json(const JsonValue& request) {
  if (!request.is_object()) return type_error("request", "an object", request);
  std::string path;
  DSV4_RETURN_IF_ERROR(check_strings(request, path));
  const JsonValue* messages = request.find("messages");
  if (messages == nullptr) return Status::error("messages: missing");
  ChatRequest out;
  DSV4_ASSIGN_OR_RETURN(out.messages, read_messages(*messages, "messages"));
  DSV4_RETURN_IF_ERROR(read_options(request.find("options"), out));

  // §3.3: request-level tools go on a leading system/developer message, or on a new system message.
  if (const JsonValue* tools = request.find("tools")) {
    DSV4_ASSIGN_OR_RETURN(std::vector<JsonValue> functions, read_tools(*tools, "tools"));
    if (!functions.empty()) {
      std::vector<ChatMessage>& ms = out.messages;
      if (!ms.empty() && (ms[0].role == ChatRole::kSystem || ms[0].role == ChatRole::kDeveloper)) {
        ms[0].tools = std::move(functions);
      } else {
        ms.insert(ms.begin(), ChatMessage{.role = ChatRole::kSystem, .tools = std::move(functions)});
      }
    }
  }
  return out;
}

Result<JsonValue> json_value_from(const nlohmann::ordered_json& value) {
  struct Converter {
    Result<JsonValue> operator()(const nlohmann::ordered_json& v, int depth) const {
      if (depth > kMaxJsonDepth) return Status::error("JSON nesting deeper than {} levels", kMaxJsonDepth);
      using Type = nlohmann::ordered_json::value_t;
      switch (v.type()) {
        case Type::null: return JsonValue();
        case Type::boolean: return JsonValue::make_bool(v.get<bool>());
        case Type::number_integer: return JsonValue::make_int(std::to_string(v.get<int64_t>()));
        case Type::number_unsigned: return JsonValue::make_int(std::to_string(v.get<uint64_t>()));
        case Type::number_float: return JsonValue::make_float(v.get<double>());
        case Type::string: return JsonValue::make_string(v.get_ref<const std::string&>());
        case Type::array: {
          JsonValue out = JsonValue::make_array();
          for (const auto& item : v) {
            DSV4_ASSIGN_OR_RETURN(JsonValue converted, (*this)(item, depth + 1));
            out.items.push_back(std::move(converted));
          }
          return out;
        }
        case Type::object: {
          JsonValue out = JsonValue::make_object();
          for (const auto& [key, item] : v.items()) {
            DSV4_ASSIGN_OR_RETURN(JsonValue converted, (*this)(item, depth + 1));
            out.members.push_back(JsonMember{key, std::move(converted)});
          }
          return out;
        }
        case Type::binary:
        case Type::discarded: break;
      }
      return Status::error("JSON value of a kind the chat format cannot hold (binary or discarded)");
    }
  };
  return Converter()(value, 0);
}

Result<std::string> render_chat(const nlohmann::ordered_json& request) {
  DSV4_ASSIGN_OR_RETURN(const JsonValue value, json_value_from(request));
  DSV4_ASSIGN_OR_RETURN(const ChatRequest typed, chat_request_from_json(value));
  return encode_chat(typed.messages, typed.options, typed.context);
}

Result<std::string> render_chat_text(std::string_view request_json) {
  DSV4_RETURN_IF_ERROR(check_utf8(request_json, "request"));
  Result<JsonValue> value = parse_json_text(request_json);
  if (!value.is_ok()) return value.status().with_context("request: ");
  DSV4_ASSIGN_OR_RETURN(const ChatRequest typed, chat_request_from_json(value.value()));
  return encode_chat(typed.messages, typed.options, typed.context);
}

}  // namespace dsv4
