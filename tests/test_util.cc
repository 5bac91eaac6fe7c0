#include "test_util.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

namespace dsv4::testing {

CommandResult run_command(const std::string& args, const std::string& input) {
  const std::string base = std::filesystem::temp_directory_path() / ("dsv4_cmd_" + std::to_string(::getpid()));
  std::ofstream(base + ".in", std::ios::binary) << input;
  const std::string cmd = args + " <" + base + ".in >" + base + ".out 2>" + base + ".err";
  const int status = std::system(cmd.c_str());
  CommandResult r;
  if (status != -1 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  for (auto [file, dst] : {std::pair{base + ".out", &r.out}, std::pair{base + ".err", &r.err}}) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    *dst = ss.str();
    std::filesystem::remove(file);
  }
  std::filesystem::remove(base + ".in");
  return r;
}

TempDir::TempDir() {
  static int counter = 0;
  path_ = std::filesystem::temp_directory_path() /
          ("dsv4_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() { std::filesystem::remove_all(path_); }

void make_tiny_model_dir(const std::string& case_name, const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  const std::string src = golden_case(case_name);
  for (const char* f : {"config.json", "model.safetensors"}) fs::copy_file(src + "/" + f, dir / f);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(source_path("tests/data/tiny-tokenizer/") + f, dir / f);
}

}  // namespace dsv4::testing
