// Reproduces every record of the chat-format golden vectors (tests/data/golden/chat, copied byte for byte
// from shared/golden/chat): cases.jsonl prompts byte for byte through both request paths, and parse.jsonl
// results exactly, rejected records rejected. A missing file fails the tests; it never skips them.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "text/chat_parser.h"
#include "text/chat_request.h"

namespace dsv4 {
namespace {

struct Record {
  std::string line;
  nlohmann::ordered_json json;
};

std::vector<Record> load_jsonl(const std::string& name) {
  const std::string path = std::string(DSV4_SOURCE_DIR) + "/tests/data/golden/chat/" + name;
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "missing golden file " << path << " (copy shared/golden/chat/ there byte for byte)";
    return {};
  }
  std::vector<Record> records;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    records.push_back(Record{line, nlohmann::ordered_json::parse(line)});
  }
  return records;
}

// The first differing byte and some context, which reads better than two long prompts.
std::string describe_difference(const std::string& got, const std::string& want) {
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  const size_t from = i > 40 ? i - 40 : 0;
  return "first difference at byte " + std::to_string(i) + "\n  got:  ..." + got.substr(from, 120) + "\n  want: ..." +
         want.substr(from, 120);
}

TEST(ChatGolden, FilesHoldAllRecords) {
  EXPECT_EQ(load_jsonl("cases.jsonl").size(), 30u);
  EXPECT_EQ(load_jsonl("parse.jsonl").size(), 19u);
}

TEST(ChatGolden, EveryCaseRendersByteExact) {
  const std::vector<Record> cases = load_jsonl("cases.jsonl");
  ASSERT_FALSE(cases.empty());
  for (const Record& r : cases) {
    SCOPED_TRACE(r.json["name"].get<std::string>());
    const std::string want = r.json["prompt"].get<std::string>();
    Result<std::string> got = render_chat(r.json);
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    EXPECT_TRUE(got.value() == want) << describe_difference(got.value(), want);
  }
}

// Same records through render_chat_text, which reads the JSON text itself instead of nlohmann's DOM.
TEST(ChatGolden, EveryCaseRendersByteExactFromText) {
  const std::vector<Record> cases = load_jsonl("cases.jsonl");
  ASSERT_FALSE(cases.empty());
  for (const Record& r : cases) {
    SCOPED_TRACE(r.json["name"].get<std::string>());
    const std::string want = r.json["prompt"].get<std::string>();
    Result<std::string> got = render_chat_text(r.line);
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    EXPECT_TRUE(got.value() == want) << describe_difference(got.value(), want);
  }
}

TEST(ChatGolden, EveryParseRecordMatchesStrictParser) {
  const std::vector<Record> records = load_jsonl("parse.jsonl");
  ASSERT_FALSE(records.empty());
  for (const Record& r : records) {
    SCOPED_TRACE(r.json["name"].get<std::string>());
    const Result<ParsedMessage> got =
        parse_completion(r.json["completion"].get<std::string>(), r.json["thinking"].get<bool>(), ParseMode::kStrict);
    if (r.json["expected"].is_null()) {
      EXPECT_FALSE(got.is_ok()) << "accepted a completion the reference rejects with "
                                << r.json["error"]["message"].get<std::string>();
      continue;
    }
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    EXPECT_EQ(to_json(got.value()), r.json["expected"]) << to_json(got.value()).dump();
  }
}

// Lenient mode gives the same fields on everything the reference accepts, with arguments equal once
// normalised (it rewrites string="false" values in Python's JSON form).
TEST(ChatGolden, LenientParserAgreesOnAcceptedRecords) {
  const std::vector<Record> records = load_jsonl("parse.jsonl");
  ASSERT_FALSE(records.empty());
  for (const Record& r : records) {
    if (r.json["expected"].is_null()) continue;
    SCOPED_TRACE(r.json["name"].get<std::string>());
    const auto& want = r.json["expected"];
    const Result<ParsedMessage> got =
        parse_completion(r.json["completion"].get<std::string>(), r.json["thinking"].get<bool>(), ParseMode::kLenient);
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    EXPECT_EQ(got->reasoning_content, want["reasoning_content"].get<std::string>());
    EXPECT_EQ(got->content, want["content"].get<std::string>());
    ASSERT_EQ(got->tool_calls.size(), want["tool_calls"].size());
    for (size_t i = 0; i < got->tool_calls.size(); ++i) {
      const auto& fn = want["tool_calls"][i]["function"];
      EXPECT_EQ(got->tool_calls[i].name, fn["name"].get<std::string>());
      Result<JsonValue> want_args = parse_json_text(fn["arguments"].get<std::string>());
      ASSERT_TRUE(want_args.is_ok());
      EXPECT_EQ(got->tool_calls[i].arguments, to_json_text(want_args.value()));
    }
  }
}

}  // namespace
}  // namespace dsv4
