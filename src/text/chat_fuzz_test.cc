// Randomised robustness tests for the chat library: mutated completions, requests and JSON texts must
// give a result or a one-line error, never a crash (run under DSV4_SANITIZE for memory errors), and
// random assistant turns must survive encode -> parse unchanged. Seeds are fixed, so runs repeat.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "text/chat_encoder.h"
#include "text/chat_parse_internal.h"
#include "text/chat_parser.h"
#include "text/chat_request.h"
#include "text/json_text.h"
#include "text/utf8.h"

namespace dsv4 {
namespace {

// Pieces that steer mutations towards the parsers' decision points, plus bytes that are not UTF-8.
const std::vector<std::string> kPieces = {"</think>",
                                          "<think>",
                                          "<｜end▁of▁sentence｜>",
                                          "<｜begin▁of▁sentence｜>",
                                          "\n",
                                          "\n\n",
                                          ">",
                                          "<",
                                          ">\n",
                                          "\"",
                                          " ",
                                          "\t",
                                          "\u3000",
                                          "é",
                                          "😀",
                                          "<｜DSML｜tool_calls",
                                          "<｜DSML｜tool_calls>",
                                          "</｜DSML｜tool_calls>",
                                          "<｜DSML｜invoke",
                                          "<｜DSML｜invoke name=\"f\">\n",
                                          "</｜DSML｜invoke>",
                                          "<｜DSML｜parameter",
                                          " name=\"k\" string=\"true\">",
                                          " name=\"k\" string=\"false\">",
                                          "</｜DSML｜parameter>",
                                          "/｜DSML｜parameter",
                                          "｜DSML｜",
                                          "<\n",
                                          "[1,2]",
                                          "{\"a\": 1}",
                                          "\\ud800",
                                          "\\u00e9",
                                          "NaN",
                                          "1e400",
                                          "\xff",
                                          "\xc3",
                                          "\xed\xa0\x80",
                                          "\x00"};

class Mutator {
 public:
  explicit Mutator(uint32_t seed) : rng_(seed) {}

  size_t below(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  const std::string& piece() { return kPieces[below(kPieces.size())]; }

  std::string mutate(std::string s) {
    const size_t ops = 1 + below(4);
    for (size_t k = 0; k < ops; ++k) {
      const size_t i = below(s.size() + 1);
      const size_t j = std::min(s.size(), i + below(8));
      switch (below(5)) {
        case 0: s.insert(i, piece()); break;
        case 1: s.erase(i, j - i); break;
        case 2: s.replace(i, j - i, piece()); break;
        case 3: s.resize(i); break;
        default: s.insert(i, s.substr(i, j - i)); break;
      }
    }
    return s;
  }

  // A random JSON value, biased towards the words the request reader looks for.
  JsonValue value(int depth) {
    static const std::vector<std::string> kWords = {
        "system", "developer", "user", "assistant", "tool",     "latest_reminder",
        "bot",    "",          "f",    "{}",        "not json", "{\"a\": [1, 2.50, null]}",
        "[1]",    "max",       "high", "low",       "v4",       "v4-0731",
        "action", "query",     "text", "c1"};
    switch (below(depth > 2 ? 5 : 7)) {
      case 0: return JsonValue();
      case 1: return JsonValue::make_bool(chance(0.5));
      case 2: return chance(0.5) ? JsonValue::make_int(std::to_string(below(100))) : JsonValue::make_float(0.5);
      case 3: return JsonValue::make_string(kWords[below(kWords.size())]);
      case 4: return JsonValue::make_string(mutate(kWords[below(kWords.size())]));
      case 5: {
        JsonValue a = JsonValue::make_array();
        for (size_t n = below(3); n > 0; --n) a.items.push_back(value(depth + 1));
        return a;
      }
      default: {
        JsonValue o = JsonValue::make_object();
        for (size_t n = below(3); n > 0; --n) o.members.push_back(JsonMember{key(), value(depth + 1)});
        return o;
      }
    }
  }

  std::string key() {
    static const std::vector<std::string> kKeys = {"role",
                                                   "content",
                                                   "reasoning_content",
                                                   "tool_calls",
                                                   "function",
                                                   "name",
                                                   "arguments",
                                                   "id",
                                                   "tool_call_id",
                                                   "tools",
                                                   "response_format",
                                                   "task",
                                                   "wo_eos",
                                                   "type",
                                                   "text",
                                                   "thinking",
                                                   "reasoning_effort",
                                                   "profile",
                                                   "context",
                                                   "drop_thinking",
                                                   "add_bos",
                                                   "messages",
                                                   "options"};
    return kKeys[below(kKeys.size())];
  }

  // Replaces, extends or trims one random node of `root`.
  void mutate_tree(JsonValue& root) {
    std::vector<JsonValue*> nodes;
    collect(root, nodes);
    JsonValue& n = *nodes[below(nodes.size())];
    switch (below(4)) {
      case 0: n = value(1); break;
      case 1:
        if (n.is_object() && !n.members.empty()) n.members.erase(n.members.begin() + below(n.members.size()));
        if (n.is_array() && !n.items.empty()) n.items.erase(n.items.begin() + below(n.items.size()));
        break;
      case 2:
        if (n.is_object()) n.members.push_back(JsonMember{key(), value(1)});
        if (n.is_array() && !n.items.empty()) n.items.push_back(n.items[below(n.items.size())]);
        break;
      default:
        if (n.is_string()) n.text = mutate(n.text);
        break;
    }
  }

 private:
  static void collect(JsonValue& v, std::vector<JsonValue*>& out) {
    out.push_back(&v);
    for (JsonValue& item : v.items) collect(item, out);
    for (JsonMember& m : v.members) collect(m.value, out);
  }

  std::mt19937 rng_;
};

void expect_one_line_error(const Status& status) {
  EXPECT_FALSE(status.message().empty());
  EXPECT_EQ(status.message().find('\n'), std::string::npos) << status.message();
}

const char* const kSeedCompletions[] = {
    "The user greets me.</think>Hello!<｜end▁of▁sentence｜>",
    "Check.</think>Let me look.\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"calc\">\n"
    "<｜DSML｜parameter name=\"expr\" string=\"true\">22/7</｜DSML｜parameter>\n"
    "<｜DSML｜parameter name=\"precision\" string=\"false\">6</｜DSML｜parameter>\n</｜DSML｜invoke>\n"
    "<｜DSML｜invoke name=\"list\">\n\n</｜DSML｜invoke>\n</｜DSML｜tool_calls><｜end▁of▁sentence｜>",
    "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"sum\">\n"
    "<｜DSML｜parameter name=\"ids\" string=\"false\">[1,2,  3]</｜DSML｜parameter>\n</｜DSML｜invoke>\n"
    "</｜DSML｜tool_calls>",
    "Line one.\n\nLine two.\n<｜end▁of▁sentence｜>",
};

TEST(ChatFuzz, ParserAnswersEveryMutatedCompletion) {
  Mutator m(12345);
  int accepted = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    const std::string text = m.mutate(kSeedCompletions[m.below(std::size(kSeedCompletions))]);
    for (const ParseMode mode : {ParseMode::kStrict, ParseMode::kLenient}) {
      for (const bool thinking : {false, true}) {
        Result<ParsedMessage> r = parse_completion(text, thinking, mode);
        if (!r.is_ok()) {
          expect_one_line_error(r.status());
          continue;
        }
        ++accepted;
        EXPECT_TRUE(is_valid_utf8(r->content));
        EXPECT_TRUE(is_valid_utf8(r->reasoning_content));
        for (const ParsedToolCall& call : r->tool_calls) EXPECT_TRUE(is_valid_utf8(call.arguments));
        // Lenient arguments are always valid JSON text in Python's form.
        if (mode == ParseMode::kLenient) {
          for (const ParsedToolCall& call : r->tool_calls) {
            Result<JsonValue> args = parse_json_text(call.arguments);
            ASSERT_TRUE(args.is_ok()) << call.arguments;
            EXPECT_EQ(to_json_text(args.value()), call.arguments);
          }
        }
      }
    }
  }
  EXPECT_GT(accepted, 1000);  // the mutations must not all be rejected, or they test nothing
}

const char* const kSeedRequests[] = {
    R"({"messages": [{"role": "system", "content": "S", "response_format": {"type": "json_object"}},)"
    R"( {"role": "user", "content": "q"}, {"role": "assistant", "reasoning_content": "r", "content": "",)"
    R"( "tool_calls": [{"id": "a", "type": "function",)"
    R"( "function": {"name": "f", "arguments": "{\"x\": [1, 2.5]}"}},)"
    R"( {"id": "b", "type": "function", "function": {"name": "g", "arguments": "not json"}}]},)"
    R"( {"role": "tool", "tool_call_id": "b", "content": "B"},)"
    R"( {"role": "tool", "tool_call_id": "a", "content": [{"type": "text", "text": "A"}]},)"
    R"( {"role": "user", "content": "more"}],)"
    R"( "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],)"
    R"( "options": {"thinking": true, "reasoning_effort": "max", "drop_thinking": true, "profile": "v4"}})",
    R"({"messages": [{"role": "developer", "content": "d", "tools": [{"function": {"name": "t"}}]},)"
    R"( {"role": "latest_reminder", "content": "date"}, {"role": "user", "content": "u", "task": "query"},)"
    R"( {"role": "assistant", "content": "a", "wo_eos": true}], "options": {"thinking": false,)"
    R"( "context": [{"role": "user", "content": "c"}]}})",
};

TEST(ChatFuzz, EncoderAnswersEveryMutatedRequest) {
  Mutator m(777);
  int rendered = 0;
  for (int iter = 0; iter < 5000; ++iter) {
    Result<JsonValue> request = parse_json_text(kSeedRequests[m.below(std::size(kSeedRequests))]);
    ASSERT_TRUE(request.is_ok());
    for (size_t k = 1 + m.below(3); k > 0; --k) m.mutate_tree(request.value());
    Result<ChatRequest> typed = chat_request_from_json(request.value());
    if (!typed.is_ok()) {
      expect_one_line_error(typed.status());
      continue;
    }
    Result<std::string> prompt = encode_chat(typed->messages, typed->options, typed->context);
    if (!prompt.is_ok()) {
      expect_one_line_error(prompt.status());
      continue;
    }
    ++rendered;
    EXPECT_TRUE(is_valid_utf8(prompt.value()));
  }
  EXPECT_GT(rendered, 500);
}

TEST(ChatFuzz, JsonTextRoundTripsWhateverItAccepts) {
  const char* const seeds[] = {R"({"a": [1, 2.50, -0, 1E400, "x\u00e9\ud83d\ude00"], "b": {"c": null, "a": true}})",
                               R"([NaN, -Infinity, 12345678901234567890123, "\n\t\\"])", R"("plain")"};
  Mutator m(99);
  for (int iter = 0; iter < 20000; ++iter) {
    const std::string text = m.mutate(seeds[m.below(std::size(seeds))]);
    Result<JsonValue> v = parse_json_text(text);
    if (!v.is_ok()) {
      expect_one_line_error(v.status());
      continue;
    }
    const std::string once = to_json_text(v.value());
    Result<JsonValue> again = parse_json_text(once);
    ASSERT_TRUE(again.is_ok()) << once;
    EXPECT_EQ(to_json_text(again.value()), once);
  }
}

// Random assistant turns rendered by the encoder come back unchanged from the strict parser (arguments
// in Python's JSON form), and from the lenient parser up to whitespace before the tool block.
TEST(ChatFuzz, EncodedAssistantTurnsParseBack) {
  Mutator m(4242);
  const std::vector<std::string> alphabet = {"a", "b c", "é", "😀", "\n", " ", "<", ">", "\"", "{", "x/y"};
  const auto text = [&](size_t max_pieces) {
    std::string s;
    for (size_t n = m.below(max_pieces + 1); n > 0; --n) s += alphabet[m.below(alphabet.size())];
    return s;
  };
  const auto scalar = [&]() {
    switch (m.below(5)) {
      case 0: return JsonValue();
      case 1: return JsonValue::make_bool(m.chance(0.5));
      case 2: return JsonValue::make_int(std::to_string(1 + m.below(999)) + "12345678901234567890");
      case 3: return JsonValue::make_float(static_cast<double>(m.below(1000)) / 8);
      default: return JsonValue::make_string(text(5));
    }
  };
  for (int iter = 0; iter < 2000; ++iter) {
    const bool thinking = m.chance(0.5);
    std::vector<ChatMessage> conversation(2);
    conversation[0].content = "q";
    ChatMessage& turn = conversation[1];
    turn.role = ChatRole::kAssistant;
    turn.content = text(4);
    turn.reasoning_content = text(4);
    std::vector<std::string> want_args;
    for (size_t c = m.below(3); c > 0; --c) {
      JsonValue args = JsonValue::make_object();
      for (size_t p = m.below(4); p > 0; --p) {
        const std::string key = "k" + std::to_string(p) + text(1);
        if (args.find(key) == nullptr) {
          JsonValue value = scalar();
          if (m.chance(0.3)) {
            value = JsonValue::make_array();
            value.items = {scalar(), scalar()};
          }
          args.members.push_back(JsonMember{key, std::move(value)});
        }
      }
      want_args.push_back(to_json_text(args));
      turn.tool_calls.push_back(ChatToolCall{"", "fn" + std::to_string(c), want_args.back()});
    }
    ChatOptions options;
    options.thinking_mode = thinking ? ThinkingMode::kThinking : ThinkingMode::kChat;
    options.drop_thinking = false;
    Result<std::string> with_turn = encode_chat(conversation, options);
    Result<std::string> without = encode_chat(std::span(conversation).first(1), options);
    ASSERT_TRUE(with_turn.is_ok() && without.is_ok());
    const std::string completion = with_turn.value().substr(without.value().size());

    for (const ParseMode mode : {ParseMode::kStrict, ParseMode::kLenient}) {
      Result<ParsedMessage> parsed = parse_completion(completion, thinking, mode);
      ASSERT_TRUE(parsed.is_ok()) << parsed.status().message() << "\n" << completion;
      EXPECT_EQ(parsed->reasoning_content, thinking ? *turn.reasoning_content : "");
      const std::string_view content = *turn.content;
      EXPECT_EQ(parsed->content,
                mode == ParseMode::kLenient && !want_args.empty() ? rtrim_python_space(content) : content);
      ASSERT_EQ(parsed->tool_calls.size(), want_args.size()) << completion;
      for (size_t c = 0; c < want_args.size(); ++c) {
        EXPECT_EQ(parsed->tool_calls[c].name, turn.tool_calls[c].name);
        EXPECT_EQ(parsed->tool_calls[c].arguments, want_args[c]) << completion;
      }
    }
  }
}

}  // namespace
}  // namespace dsv4
