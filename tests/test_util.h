// Helpers shared by the cross-module tests: locating test data (a missing file fails the test) and
// running the dsv4 binary.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace dsv4::testing {

inline std::string source_path(const std::string& rel) { return std::string(DSV4_SOURCE_DIR) + "/" + rel; }

inline std::string golden_case(const std::string& name) {
  const std::string dir = source_path("tests/data/golden/" + name);
  EXPECT_TRUE(std::filesystem::exists(dir + "/model.safetensors")) << "golden case missing: " << dir;
  return dir;
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

struct CommandResult {
  int exit_code = -1;  // -1 when the process did not exit normally (signal)
  std::string out, err;
};

// Runs `args` through /bin/sh with stdout and stderr captured separately and `input` on stdin.
CommandResult run_command(const std::string& args, const std::string& input = "");

// A temporary directory removed when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// A directory holding golden case `name`'s checkpoint and the tiny byte-level tokenizer (512 ids), which
// fits the golden models' vocabulary: a model directory `dsv4 run` and `dsv4 chat` accept.
void make_tiny_model_dir(const std::string& case_name, const std::filesystem::path& dir);

}  // namespace dsv4::testing
