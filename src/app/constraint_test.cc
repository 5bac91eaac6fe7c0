#include "app/constraint.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "app/model_bundle.h"
#include "text/chat_parser.h"

namespace dsv4 {
namespace {

JsonValue json(std::string_view text) {
  Result<JsonValue> v = parse_json_text(text);
  EXPECT_TRUE(v.is_ok()) << text;
  return v ? v.value() : JsonValue{};
}

const char* kWeatherSchema = R"({"type": "object", "properties": {
    "city": {"type": "string", "maxLength": 12},
    "days": {"type": "integer"},
    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    "scale": {"type": "number"},
    "tags": {"type": "array", "items": {"type": "boolean"}, "minItems": 1, "maxItems": 3},
    "extra": {"type": "object"},
    "note": {"type": "string"}},
  "required": ["city", "days", "unit", "scale", "tags", "extra"]})";

// Checks a value against the subset the grammar implements (what the server promises clients).
bool valid(const JsonValue& v, const JsonValue& s) {
  if (const JsonValue* e = s.find("enum")) {
    for (const JsonValue& x : e->items)
      if (to_json_text(x) == to_json_text(v)) return true;
    return false;
  }
  const JsonValue* t = s.find("type");
  if (t == nullptr) return true;
  if (t->text == "string") {
    if (!v.is_string()) return false;
    const JsonValue* hi = s.find("maxLength");
    return hi == nullptr || v.text.size() <= size_t(std::stoi(hi->text));
  }
  if (t->text == "integer") return v.kind == JsonValue::Kind::kInt;
  if (t->text == "number") return v.kind == JsonValue::Kind::kInt || v.kind == JsonValue::Kind::kFloat;
  if (t->text == "boolean") return v.kind == JsonValue::Kind::kBool;
  if (t->text == "array") {
    if (!v.is_array()) return false;
    const JsonValue* lo = s.find("minItems");
    const JsonValue* hi = s.find("maxItems");
    if (lo && v.items.size() < size_t(std::stoi(lo->text))) return false;
    if (hi && v.items.size() > size_t(std::stoi(hi->text))) return false;
    for (const JsonValue& x : v.items)
      if (!valid(x, *s.find("items"))) return false;
    return true;
  }
  if (t->text == "object") {
    if (!v.is_object()) return false;
    const JsonValue* props = s.find("properties");
    if (const JsonValue* req = s.find("required"))
      for (const JsonValue& r : req->items)
        if (v.find(r.text) == nullptr) return false;
    if (props)
      for (const JsonMember& m : v.members)
        if (props->find(m.key) && !valid(m.value, *props->find(m.key))) return false;
    return true;
  }
  return false;
}

TEST(Grammar, JsonSchemaMatchesByHand) {
  const JsonValue schema = json(R"({"type": "object", "properties": {"a": {"type": "integer"},
      "b": {"type": "array", "items": {"type": "string", "enum": ["x", "xy"]}}}, "required": ["a", "b"]})");
  auto g = json_schema_grammar(schema, false);
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  EXPECT_TRUE(TokenConstraint::matches(*g.value(), R"({"a":-12,"b":["xy","x"]})"));
  EXPECT_TRUE(TokenConstraint::matches(*g.value(), R"({"a":0,"b":[]})"));
  EXPECT_FALSE(TokenConstraint::matches(*g.value(), R"({"b":[],"a":1})"));     // schema order
  EXPECT_FALSE(TokenConstraint::matches(*g.value(), R"({"a":1.5,"b":[]})"));   // not an integer
  EXPECT_FALSE(TokenConstraint::matches(*g.value(), R"({"a":01,"b":[]})"));    // leading zero
  EXPECT_FALSE(TokenConstraint::matches(*g.value(), R"({"a":1,"b":["y"]})"));  // not in the enum
  EXPECT_FALSE(TokenConstraint::matches(*g.value(), R"({"a":1,"b":[])"));      // incomplete
  EXPECT_FALSE(json_schema_grammar(json(R"({"anyOf": []})"), false).is_ok());
  auto any = json_object_grammar(true);
  EXPECT_TRUE(TokenConstraint::matches(*any, R"(hmm</think>{"k":[1,{"z":null}],"t":"s"})"));
  EXPECT_FALSE(TokenConstraint::matches(*any, R"(hmm</think>[1])"));
}

class ConstrainedSampling : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = load_tokenizer(std::string(DSV4_SOURCE_DIR) + "/tests/data/tiny-tokenizer");
    ASSERT_TRUE(t.is_ok()) << t.status().message();
    tokenizer_ = std::make_unique<Tokenizer>(std::move(t.value()));
    trie_ = std::make_shared<VocabTrie>(*tokenizer_, tokenizer_->vocab_size());
  }
  // Samples uniformly among the allowed tokens (a "model" with no preference at all) until EOS.
  std::string sample(std::shared_ptr<const Grammar> g, uint64_t seed) {
    TokenConstraint c(std::move(g), trie_, tokenizer_->eos_id());
    std::mt19937_64 rng(seed);
    std::vector<int32_t> ids;
    std::vector<float> logits(size_t(tokenizer_->vocab_size()));
    for (int step = 0; step < 3000; ++step) {
      for (float& x : logits) x = float(rng() % 1000);
      c.mask(logits);
      std::vector<int32_t> allowed;
      for (size_t i = 0; i < logits.size(); ++i)
        if (std::isfinite(logits[i])) allowed.push_back(int32_t(i));
      // The mask (trie walk or plain-prefix shortcut) agrees with feeding each token's bytes.
      for (size_t i = 0; i < logits.size(); ++i)
        if (int32_t(i) != tokenizer_->eos_id() && std::isfinite(logits[i]) != c.allows(int32_t(i)))
          ADD_FAILURE() << "token " << i << " masked wrongly at step " << step;
      if (allowed.empty()) {
        ADD_FAILURE() << "nothing allowed";
        break;
      }
      const int32_t t = allowed[rng() % allowed.size()];
      EXPECT_TRUE(c.accept(t));
      if (t == tokenizer_->eos_id()) {
        EXPECT_TRUE(c.complete());
        auto text = tokenizer_->decode(ids);
        EXPECT_TRUE(text.is_ok());
        return text ? text.value() : "";
      }
      ids.push_back(t);
    }
    ADD_FAILURE() << "no EOS after 3000 tokens";
    return "";
  }
  std::unique_ptr<Tokenizer> tokenizer_;
  std::shared_ptr<VocabTrie> trie_;
};

TEST_F(ConstrainedSampling, ForcedTextRunsToTheNextChoice) {
  const JsonValue tools = json(R"([{"name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}}}])");
  auto g = tool_call_grammar(tools.items, "", false, chat_profile_v4().dsml);
  ASSERT_TRUE(g.is_ok());
  TokenConstraint c(g.value(), trie_, tokenizer_->eos_id());
  // One function: its name is a choice of one, so the text runs on to the first parameter's value.
  const std::string head = "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"f\">\n<｜DSML｜parameter name=\"a\" string=\"false\">";
  EXPECT_EQ(c.forced_text(), head);
  Result<std::vector<int32_t>> ids = tokenizer_->encode(head + "7");
  ASSERT_TRUE(ids.is_ok());
  for (int32_t id : ids.value()) ASSERT_TRUE(c.accept(id));
  EXPECT_EQ(c.forced_text(), "");  // more digits or the closing tag: a choice
  const JsonValue two = json(R"([{"name": "f"}, {"name": "g"}])");
  auto g2 = tool_call_grammar(two.items, "", false, chat_profile_v4().dsml);
  ASSERT_TRUE(g2.is_ok());
  EXPECT_EQ(TokenConstraint(g2.value(), trie_, tokenizer_->eos_id()).forced_text(),
            "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"");
  auto j = json_schema_grammar(json(R"({"type": "object", "properties": {"k": {"type": "boolean"}}})"), false);
  ASSERT_TRUE(j.is_ok());
  EXPECT_EQ(TokenConstraint(j.value(), trie_, tokenizer_->eos_id()).forced_text(), "{\"k\":");
}

TEST_F(ConstrainedSampling, JsonSchemaOutputIsValid) {
  const JsonValue schema = json(kWeatherSchema);
  auto g = json_schema_grammar(schema, false);
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const std::string text = sample(g.value(), seed);
    SCOPED_TRACE(text);
    Result<JsonValue> v = parse_json_text(text);
    ASSERT_TRUE(v.is_ok()) << v.status().message();
    EXPECT_TRUE(valid(v.value(), schema));
  }
}

TEST_F(ConstrainedSampling, ToolCallIsValidDsml) {
  const JsonValue tools = json(std::string(R"([{"name": "get_weather", "parameters": )") + kWeatherSchema +
                               R"(}, {"name": "get_time", "parameters": {"type": "object", "properties": {}}}])");
  for (const bool thinking : {false, true}) {
    auto g = tool_call_grammar(tools.items, "", thinking, chat_profile_v4().dsml);
    ASSERT_TRUE(g.is_ok()) << g.status().message();
    int weather = 0;
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      const std::string text = sample(g.value(), seed);
      SCOPED_TRACE(text);
      // The parsers want the EOS the sampler ended with. Random reasoning may hold text that only the
      // lenient parser accepts (DSML markers), so thinking mode is checked with that one.
      Result<ParsedMessage> m = parse_completion(text + "<｜end▁of▁sentence｜>", thinking,
                                                 thinking ? ParseMode::kLenient : ParseMode::kStrict);
      ASSERT_TRUE(m.is_ok()) << m.status().message();
      ASSERT_EQ(m->tool_calls.size(), 1u);
      EXPECT_EQ(m->content, "");
      const ParsedToolCall& call = m->tool_calls[0];
      Result<JsonValue> args = parse_json_text(call.arguments);
      ASSERT_TRUE(args.is_ok()) << call.arguments;
      if (call.name == "get_weather") {
        ++weather;
        EXPECT_TRUE(valid(args.value(), *tools.items[0].find("parameters"))) << call.arguments;
      } else {
        EXPECT_EQ(call.name, "get_time");
        EXPECT_EQ(call.arguments, "{}");
      }
    }
    EXPECT_GT(weather, 0);
    EXPECT_LT(weather, 20);
  }
  auto named = tool_call_grammar(tools.items, "get_time", false, chat_profile_v4().dsml);
  ASSERT_TRUE(named.is_ok());
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    Result<ParsedMessage> m = parse_completion(sample(named.value(), seed) + "<｜end▁of▁sentence｜>", false,
                                               ParseMode::kStrict);
    ASSERT_TRUE(m.is_ok());
    ASSERT_EQ(m->tool_calls.size(), 1u);
    EXPECT_EQ(m->tool_calls[0].name, "get_time");
  }
  EXPECT_FALSE(tool_call_grammar(tools.items, "nope", false, chat_profile_v4().dsml).is_ok());
}

}  // namespace
}  // namespace dsv4
