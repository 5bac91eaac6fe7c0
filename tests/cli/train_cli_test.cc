// dsv4 train as a user drives it, on configs/tiny-train.json (SWA, CSA and HCA layers, mHC, a hash MoE
// layer, MTP) and a slice of the shipped text: validation loss falls, the run directory loads in the
// engine with the trainer's own validation loss, --resume is bit-exact, bad input fails in one line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_util.h"

namespace dsv4 {
namespace {

namespace fs = std::filesystem;
const std::string kBin = DSV4_BINARY;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<nlohmann::json> read_log(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

void expect_one_line_error(const testing::CommandResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

class TrainCli : public ::testing::Test {
 protected:
  // One tokenizer and dataset for the suite: 40 kB of Tiny Shakespeare, 3% held out (~650 tokens).
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("dsv4_train_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const std::string text = testing::source_path("data/tinyshakespeare.txt");
    ASSERT_EQ(fs::file_size(text), 1115394u) << "data/tinyshakespeare.txt is not the shipped text";
    std::string slice = slurp(text).substr(0, 40000);
    std::ofstream(path("text.txt"), std::ios::binary) << slice;
    auto r = testing::run_command(kBin + " tokenizer train --vocab 512 --data " + path("text.txt") + " --out " + path("tok"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = testing::run_command(kBin + " data prepare -m " + path("tok") + " --data " + path("text.txt") + " --out " +
                             path("shards") + " --val-fraction 0.03");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string path(const std::string& name) { return (dir_ / name).string(); }
  static std::string train_cmd(const std::string& out, const std::string& extra) {
    return kBin + " train --config " + testing::source_path("configs/tiny-train.json") + " --data " + path("shards") +
           " --tokenizer " + path("tok") + " --out " + path(out) + " --batch 2 --seq 32 " + extra;
  }
  static fs::path dir_;
};
fs::path TrainCli::dir_;

TEST_F(TrainCli, LowersValidationLossAndTheEngineLoadsTheResult) {
  auto r = testing::run_command(train_cmd("run", "--steps 40 --lr 5e-3 --eval-every 20"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("tok/s"), std::string::npos);
  EXPECT_NE(r.err.find("ETA"), std::string::npos);
  std::vector<double> val;
  int steps = 0;
  for (const nlohmann::json& j : read_log(path("run/log.jsonl"))) {
    if (j.contains("val_loss")) val.push_back(j["val_loss"]);
    if (j.contains("loss")) {
      ++steps;
      EXPECT_TRUE(j.contains("lr") && j.contains("tokens_per_s") && j.contains("max_violation")) << j.dump();
    }
  }
  EXPECT_EQ(steps, 40);
  ASSERT_EQ(val.size(), 3u);  // steps 0, 20, 40
  std::printf("  validation loss: %.4f -> %.4f -> %.4f nats/token\n", val[0], val[1], val[2]);
  EXPECT_LT(val[2], val[0] - 1.0);
  const std::string svg = slurp(path("run/loss.svg"));
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("<polyline"), std::string::npos);

  // The engine on the exported BF16 checkpoint, windows cut as the trainer cut them (seq + 1).
  r = testing::run_command(kBin + " eval -m " + path("run") + " --data " + path("shards") + " --ctx 33 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json e = nlohmann::json::parse(r.out);
  const double engine = e["nats_per_token"];
  std::printf("  engine (BF16 weights) %.4f vs trainer (FP32) %.4f nats/token\n", engine, val[2]);
  EXPECT_NEAR(engine, val[2], 0.01);

  r = testing::run_command(kBin + " run -m " + path("run") + " -p \"ROMEO:\" -n 8 --temperature 0");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(TrainCli, ResumeIsBitExact) {
  auto r = testing::run_command(train_cmd("full", "--steps 6 --eval-every 0 --val-tokens 64 --clip 0.5 --grad-accum 2"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_command(train_cmd("half", "--steps 6 --eval-every 0 --val-tokens 64 --clip 0.5 --grad-accum 2 --stop-at 3"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_command(train_cmd("half", "--steps 6 --eval-every 0 --val-tokens 64 --clip 0.5 --grad-accum 2 --resume"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto losses = [](const std::vector<nlohmann::json>& log) {
    std::vector<double> out;
    for (const nlohmann::json& j : log)
      if (j.contains("loss")) out.push_back(j["loss"]);
    return out;
  };
  const std::vector<double> a = losses(read_log(path("full/log.jsonl"))), b = losses(read_log(path("half/log.jsonl")));
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(a, b);
  EXPECT_EQ(slurp(path("full/train_state.safetensors")), slurp(path("half/train_state.safetensors")));
  EXPECT_EQ(slurp(path("full/model.safetensors")), slurp(path("half/model.safetensors")));

  // A different setting is refused rather than silently continued.
  r = testing::run_command(train_cmd("half", "--steps 6 --eval-every 0 --lr 1e-3 --resume"));
  expect_one_line_error(r, "resume with the same settings");
}

TEST_F(TrainCli, BenchPrintsTokensPerSecond) {
  const auto r = testing::run_command(kBin + " train --bench --batch 1 --seq 32");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("shakespeare-v4.json"), std::string::npos) << r.out;
  const size_t at = r.out.find(" tokens/s");
  ASSERT_NE(at, std::string::npos) << r.out;
  EXPECT_GT(std::stod(r.out.substr(r.out.rfind(' ', at - 1) + 1)), 0.0) << r.out;
}

TEST_F(TrainCli, BadInputGivesOneLineErrors) {
  expect_one_line_error(testing::run_command(kBin + " train --config " + testing::source_path("configs/tiny-train.json") +
                                             " --data " + path("missing") + " --out " + path("x")),
                        "missing");
  expect_one_line_error(testing::run_command(train_cmd("x", "--steps 4 --stop-at 9")), "--stop-at");
  expect_one_line_error(testing::run_command(kBin + " train --config " + testing::source_path("configs/tiny-train.json") +
                                             " --data " + path("shards") + " --tokenizer " + path("tok") + " --out " +
                                             path("x") + " --seq 600"),
                        "index_topk");
  expect_one_line_error(testing::run_command(train_cmd("x", "--steps 4 --resume")), "--resume");
  expect_one_line_error(
      testing::run_command(kBin + " train --config " + testing::source_path("configs/bench-v4.json") + " --data " +
                           path("shards") + " --tokenizer " + path("tok") + " --out " + path("x")),
      "FP8");
  // A config with a smaller vocabulary than the dataset's.
  nlohmann::json c = testing::read_json(testing::source_path("configs/tiny-train.json"));
  c["vocab_size"] = 256;
  std::ofstream(path("small.json")) << c.dump();
  expect_one_line_error(testing::run_command(kBin + " train --config " + path("small.json") + " --data " +
                                             path("shards") + " --tokenizer " + path("tok") + " --out " + path("x")),
                        "larger than the config's vocab_size");
}

}  // namespace
}  // namespace dsv4
