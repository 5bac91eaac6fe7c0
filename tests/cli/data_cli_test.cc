// dsv4 tokenizer train / data prepare as a user drives them: on the shipped text, then on bad input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace dsv4 {
namespace {

namespace fs = std::filesystem;
const std::string kBin = DSV4_BINARY;

void expect_one_line_error(const testing::CommandResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

class DataCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dsv4_data_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(DataCli, TrainsATokenizerAndPreparesShardsOfTheShippedText) {
  const std::string text = testing::source_path("data/tinyshakespeare.txt");
  auto r = testing::run_command(kBin + " tokenizer train --vocab 1024 --data " + text + " --out " + path("tok"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1024 ids"), std::string::npos) << r.out;

  r = testing::run_command(kBin + " tokenize -m " + path("tok") + " --decode", "[0, 100, 200, 1023]");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("<｜begin▁of▁sentence｜>", 0), 0u) << r.out;

  r = testing::run_command(kBin + " data prepare -m " + path("tok") + " --data " + text + " --out " + path("shards") +
                           " --val-fraction 0.1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto meta = nlohmann::json::parse(std::ifstream(path("shards/meta.json")));
  EXPECT_EQ(meta["vocab_size"], 1024);
  EXPECT_EQ(meta["dtype"], "uint16");
  const int64_t train = meta["splits"]["train"]["tokens"], val = meta["splits"]["val"]["tokens"];
  EXPECT_EQ(int64_t(fs::file_size(path("shards/train-00000.bin"))), 2 * train);
  EXPECT_EQ(meta["splits"]["train"]["text_bytes"].get<int64_t>() + meta["splits"]["val"]["text_bytes"].get<int64_t>(),
            int64_t(fs::file_size(text)));
  EXPECT_NEAR(double(val) / double(train + val), 0.1, 0.02);
}

TEST_F(DataCli, BadInputGivesOneLineErrors) {
  { std::ofstream(path("bad.txt"), std::ios::binary) << "fine so far \xc3\x28 then broken"; }
  { std::ofstream(path("short.txt")) << "hello\nworld\n"; }
  expect_one_line_error(testing::run_command(kBin + " tokenizer train --vocab 500 --data " + path("bad.txt") +
                                             " --out " + path("t1")), "not valid UTF-8");
  expect_one_line_error(testing::run_command(kBin + " tokenizer train --vocab 100 --data " + path("short.txt") +
                                             " --out " + path("t2")), "too small");
  expect_one_line_error(testing::run_command(kBin + " tokenizer train --vocab 500 --data " + path("missing.txt") +
                                             " --out " + path("t3")), "cannot open");
  EXPECT_FALSE(fs::exists(path("t1/tokenizer.json")));

  const std::string tok = testing::source_path("tests/data/tiny-tokenizer");
  expect_one_line_error(testing::run_command(kBin + " data prepare -m " + tok + " --data " + path("bad.txt") +
                                             " --out " + path("d1")), "UTF-8");
  expect_one_line_error(testing::run_command(kBin + " data prepare -m " + path("nowhere") + " --data " +
                                             path("short.txt") + " --out " + path("d2")), "nowhere");
}

TEST_F(DataCli, EvalReportsLossPerTokenAndPerByte) {
  fs::create_directories(dir_ / "model");
  testing::make_tiny_model_dir("tiny-fp8", dir_ / "model");
  std::string text;
  for (int i = 0; i < 12; ++i) text += "KING: What say you, my lord? Speak, speak.\n";
  { std::ofstream(path("play.txt")) << text; }
  auto r = testing::run_command(kBin + " eval -m " + path("model") + " --data " + path("play.txt") + " --ctx 64 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const int64_t tokens = j["tokens"];
  EXPECT_EQ(j["predicted"].get<int64_t>(), tokens - 1);
  EXPECT_EQ(j["text_bytes"].get<int64_t>(), int64_t(text.size()));
  EXPECT_GT(j["nats_per_token"].get<double>(), 0.0);
  EXPECT_NEAR(j["nats_per_byte"].get<double>(), j["nats_per_token"].get<double>() * double(tokens) / double(text.size()), 1e-9);
  EXPECT_NEAR(j["bits_per_byte"].get<double>(), j["nats_per_byte"].get<double>() / std::log(2.0), 1e-9);

  // The same text as a prepared dataset's validation split scores the same tokens.
  ASSERT_EQ(testing::run_command(kBin + " data prepare -m " + path("model") + " --data " + path("play.txt") +
                                 " --out " + path("ds") + " --val-fraction 0.5").exit_code, 0);
  r = testing::run_command(kBin + " eval -m " + path("model") + " --data " + path("ds") + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["text_bytes"].get<int64_t>(), int64_t(text.size() / 2));

  // A dataset made with a larger vocabulary than the model's cannot be scored.
  ASSERT_EQ(testing::run_command(kBin + " tokenizer train --vocab 700 --data " +
                                 testing::source_path("data/tinyshakespeare.txt") + " --out " + path("big")).exit_code, 0);
  ASSERT_EQ(testing::run_command(kBin + " data prepare -m " + path("big") + " --data " + path("play.txt") + " --out " +
                                 path("bigds")).exit_code, 0);
  expect_one_line_error(testing::run_command(kBin + " eval -m " + path("model") + " --data " + path("bigds")),
                        "larger than the model's");
  expect_one_line_error(testing::run_command(kBin + " eval -m " + path("model") + " --data " + path("none.txt")),
                        "cannot open");
}

}  // namespace
}  // namespace dsv4
