#include "test_util.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

namespace dsv4::testing {

CommandResult run_command(const std::string& args) {
  const std::string base = std::filesystem::temp_directory_path() / ("dsv4_cmd_" + std::to_string(::getpid()));
  const std::string cmd = args + " >" + base + ".out 2>" + base + ".err";
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
  return r;
}

}  // namespace dsv4::testing
