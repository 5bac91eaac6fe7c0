// The dsv4 subcommands. Each returns the process exit status; errors are printed as one line.
#pragma once

#include <cstdint>
#include <string>

namespace dsv4 {

struct InspectOptions {
  std::string path;      // model directory or config.json
  int64_t ctx = 0;       // context for the KV totals; 0 = max_position_embeddings
};
int run_inspect(const InspectOptions& o);

struct GoldenCheckOptions {
  std::string case_dir;
};
int run_golden_check(const GoldenCheckOptions& o);

}  // namespace dsv4
