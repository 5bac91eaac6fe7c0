// dsv4 plot-runs: training runs side by side, from their log.jsonl files — a table (final and best
// validation loss, and with --baseline the step at which each run first reaches the baseline's final
// validation loss) and, with --out, one SVG of the validation (or training) loss curves.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "svg_plot.h"

namespace dsv4 {
namespace {

namespace fs = std::filesystem;

struct Run {
  std::string name;                                  // the run directory's name
  std::vector<std::pair<double, double>> val, train;  // (step, nats/token)
};

Result<Run> read_run(const std::string& dir) {
  const std::string path = dir + "/log.jsonl";
  std::ifstream in(path);
  if (!in) return Status::error("plot-runs: cannot open {}", path);
  fs::path name = fs::path(dir).lexically_normal();
  if (!name.has_filename()) name = name.parent_path();  // "runs/a/"
  Run r{name.filename().string(), {}, {}};
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("step") || !j["step"].is_number())
      return Status::error("plot-runs: {} line {}: not a dsv4 train log line", path, line_no);
    const double step = j["step"].get<double>();
    if (j.contains("val_loss") && j["val_loss"].is_number()) r.val.emplace_back(step, j["val_loss"].get<double>());
    if (j.contains("loss") && j["loss"].is_number()) r.train.emplace_back(step, j["loss"].get<double>());
  }
  if (r.val.empty()) return Status::error("plot-runs: {} has no validation lines", path);
  return r;
}

// The first logged step at which the validation loss is at or below `target`; −1 if never.
double first_step_reaching(const Run& r, double target) {
  for (const auto& [step, loss] : r.val)
    if (loss <= target) return step;
  return -1;
}

void print_table(const std::vector<Run>& runs, const PlotRunsOptions& o) {
  const Run* base = nullptr;
  for (const Run& r : runs)
    if (r.name == o.baseline) base = &r;
  const double target = base ? base->val.back().second : 0;
  if (base) fmt::print("target: {:.4f} nats/token, the final validation loss of {}\n", target, base->name);
  fmt::print("{:<24} {:>6} {:>10} {:>10} {:>6}", "run", "steps", "final val", "best val", "@step");
  if (base) fmt::print(" {:>13} {:>11}", "target@step", "vs baseline");
  fmt::print("\n");
  for (const Run& r : runs) {
    auto best = r.val.front();
    for (const auto& p : r.val)
      if (p.second < best.second) best = p;
    fmt::print("{:<24} {:>6.0f} {:>10.4f} {:>10.4f} {:>6.0f}", r.name, r.val.back().first, r.val.back().second,
               best.second, best.first);
    if (base) {
      const double mine = first_step_reaching(r, target), theirs = first_step_reaching(*base, target);
      if (mine < 0) fmt::print(" {:>13}", "never");
      else fmt::print(" {:>13.0f} {:>10.2f}x", mine, mine / theirs);
    }
    fmt::print("\n");
  }
}

}  // namespace

int run_plot_runs(const PlotRunsOptions& o) {
  std::vector<Run> runs;
  for (const std::string& dir : o.runs) {
    Result<Run> r = read_run(dir);
    if (!r.is_ok()) {
      fmt::print(stderr, "error: {}\n", r.status().message());
      return 1;
    }
    runs.push_back(std::move(r.value()));
  }
  if (!o.baseline.empty() &&
      std::none_of(runs.begin(), runs.end(), [&](const Run& r) { return r.name == o.baseline; })) {
    fmt::print(stderr, "error: plot-runs: --baseline {} is not one of the runs\n", o.baseline);
    return 1;
  }
  print_table(runs, o);
  if (o.out.empty()) return 0;
  PlotSpec spec{.title = o.title, .x_label = "step", .y_label = o.train ? "training loss (nats/token)"
                                                                        : "validation loss (nats/token)",
                .y_bytes = false, .series = {}, .log_axes = false};
  for (const Run& r : runs) spec.series.push_back({r.name, o.train ? r.train : r.val});
  if (Status s = write_svg_plot(spec, o.out); !s.is_ok()) {
    fmt::print(stderr, "error: {}\n", s.message());
    return 1;
  }
  return 0;
}

}  // namespace dsv4
