// dsv4 tokenize / render / parse: the text layer on stdin and stdout, no model needed.
#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "app/model_bundle.h"
#include "commands.h"
#include "text/chat_parser.h"
#include "text/chat_request.h"

namespace dsv4 {

namespace {

std::string read_stdin() { return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()}; }

int fail(const char* command, const Status& s) {
  fmt::print(stderr, "dsv4 {}: {}\n", command, s.message());
  return 1;
}

Result<std::vector<int32_t>> parse_ids(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) return Status::error("stdin: expected a JSON array of token ids");
  std::vector<int32_t> ids;
  for (const auto& v : j) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX)
      return Status::error("stdin: {} is not a token id", v.dump());
    ids.push_back(int32_t(v.get<int64_t>()));
  }
  return ids;
}

}  // namespace

int run_tokenize(const TokenizeOptions& o) {
  auto tok = load_tokenizer(o.tokenizer);
  if (!tok) return fail("tokenize", tok.status());
  const std::string input = read_stdin();
  if (o.decode) {
    auto ids = parse_ids(input);
    if (!ids) return fail("tokenize", ids.status());
    auto text = tok->decode(ids.value());
    if (!text) return fail("tokenize", text.status());
    std::fwrite(text->data(), 1, text->size(), stdout);
    return 0;
  }
  auto ids = o.bos ? tok->encode_with_bos(input) : tok->encode(input);
  if (!ids) return fail("tokenize", ids.status().with_context("stdin: "));
  nlohmann::json out = nlohmann::json::array();
  for (int32_t id : ids.value()) {
    if (!o.pieces) {
      out.push_back(id);
      continue;
    }
    auto piece = tok->piece(id);
    out.push_back({id, std::string(piece ? piece.value() : "")});
  }
  // Pieces can be parts of a UTF-8 character: their invalid bytes print as U+FFFD.
  fmt::print("{}\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return 0;
}

int run_render() {
  auto prompt = render_chat_text(read_stdin());
  if (!prompt) return fail("render", prompt.status());
  std::fwrite(prompt->data(), 1, prompt->size(), stdout);
  return 0;
}

int run_parse(const ParseOptions& o) {
  const auto in = nlohmann::json::parse(read_stdin(), nullptr, /*allow_exceptions=*/false);
  if (in.is_discarded() || !in.is_object() || !in.contains("completion") || !in["completion"].is_string() ||
      !in.contains("thinking") || !in["thinking"].is_boolean())
    return fail("parse", Status::error("stdin: expected {{\"completion\": string, \"thinking\": bool}}"));
  auto parsed = parse_completion(in["completion"].get<std::string>(), in["thinking"].get<bool>(),
                                 o.lenient ? ParseMode::kLenient : ParseMode::kStrict);
  if (!parsed) return fail("parse", parsed.status());
  fmt::print("{}\n", to_json(parsed.value()).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  return 0;
}

}  // namespace dsv4
