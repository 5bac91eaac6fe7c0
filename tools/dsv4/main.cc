// dsv4: the command-line front end. Thin: parses arguments and calls one command.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"dsv4: DeepSeek-V4 inference and training on CPU"};
  app.require_subcommand(1);

  dsv4::InspectOptions inspect;
  auto* ins = app.add_subcommand("inspect", "Layer schedule, parameter counts, bytes by dtype, KV cache size");
  ins->add_option("model", inspect.path, "model directory or config.json")->required();
  ins->add_option("--ctx", inspect.ctx, "context length for the KV totals (default: max_position_embeddings)")
      ->check(CLI::PositiveNumber);

  dsv4::GoldenCheckOptions golden;
  auto* gc = app.add_subcommand("golden-check", "Check the engine against an official-reference golden case");
  gc->add_option("case", golden.case_dir, "golden case directory")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (*ins) return dsv4::run_inspect(inspect);
  if (*gc) return dsv4::run_golden_check(golden);
  return 2;
}
