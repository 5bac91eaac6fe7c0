// DSML tool-call block writer (chat-format.md §6); see dsml_writer.h.
#include "text/dsml_writer.h"

namespace dsv4 {
namespace {

void append_parameter(std::string& out, const DsmlTags& tags, std::string_view key, const JsonValue& value) {
  // Keys and string values go in raw: the format has no escaping, so a value may even contain tag text.
  out += tags.parameter_open;
  out += " name=\"";
  out += key;
  if (value.is_string()) {
    out += "\" string=\"true\">";
    out += value.text;
  } else {
    out += "\" string=\"false\">";
    append_json_text(out, value);
  }
  out += tags.parameter_close;
  out += '>';
}

}  // namespace

Status append_dsml_tool_calls(std::string& out, std::span<const ChatToolCall> calls, const DsmlTags& tags,
                              std::string_view where) {
  out += tags.block_open;
  out += ">\n";
  for (size_t c = 0; c < calls.size(); ++c) {
    const ChatToolCall& call = calls[c];
    if (c > 0) out += '\n';
    out += tags.invoke_open;
    out += " name=\"";
    out += call.name;
    out += "\">\n";
    Result<JsonValue> args = parse_json_text(call.arguments);
    if (!args.is_ok()) {
      append_parameter(out, tags, "arguments", JsonValue::make_string(call.arguments));
    } else if (!args->is_object()) {
      return Status::error("{}.tool_calls[{}].function.arguments: expected a JSON object, found {}", where, c,
                           json_kind_name(args.value()));
    } else {
      for (size_t m = 0; m < args->members.size(); ++m) {
        if (m > 0) out += '\n';
        append_parameter(out, tags, args->members[m].key, args->members[m].value);
      }
    }
    out += '\n';
    out += tags.invoke_close;
    out += '>';
  }
  out += '\n';
  out += tags.block_close;
  return Status::ok();
}

}  // namespace dsv4
