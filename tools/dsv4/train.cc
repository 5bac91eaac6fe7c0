// dsv4 train: the training loop around train::Trainer — data, schedule, logs, plot, checkpoints.
//   OUT/log.jsonl              one line per step ({"step", "lr", "loss", ...}) and per validation
//   OUT/loss.svg               train and validation loss against the step
//   OUT/model.safetensors, config.json, tokenizer.json[, tokenizer_config.json]: a model directory that
//                              `dsv4 run/chat/eval -m OUT` load; written at each validation and at the end
//   OUT/train_state.safetensors  FP32 weights + optimizer state + step, for --resume
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numbers>
#include <random>

#include "app/token_shards.h"
#include "commands.h"
#include "base/thread_pool.h"
#include "io/files.h"
#include "model/config.h"
#include "openblas_env.h"
#include "svg_plot.h"
#include "train/trainer.h"

namespace dsv4 {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string duration_str(double s) {
  const int64_t t = int64_t(std::lround(s));
  if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, t / 60 % 60);
  if (t >= 60) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

struct RunFiles {
  std::string config_json, tokenizer_json, tokenizer_config_json;  // bytes to copy into the model directory
};

Status write_checkpoint(train::Trainer& t, const std::string& out, const RunFiles& files) {
  DSV4_RETURN_IF_ERROR(t.export_checkpoint(out + "/model.safetensors"));
  DSV4_RETURN_IF_ERROR(write_file_atomically(out + "/config.json", files.config_json));
  DSV4_RETURN_IF_ERROR(write_file_atomically(out + "/tokenizer.json", files.tokenizer_json));
  if (!files.tokenizer_config_json.empty())
    DSV4_RETURN_IF_ERROR(write_file_atomically(out + "/tokenizer_config.json", files.tokenizer_config_json));
  return t.save_state(out + "/train_state.safetensors");
}

train::TrainerOptions trainer_options(const TrainCliOptions& o) {
  train::TrainerOptions t;
  t.adamw_only = o.optimizer == "adamw";
  t.steps = o.steps;
  t.batch = o.batch;
  t.seq = o.seq;
  t.grad_accum = o.grad_accum;
  t.lr = o.lr;
  t.warmup = o.warmup;
  t.clip = o.clip;
  t.seed = o.seed;
  t.threads = o.threads > 0 ? o.threads : default_thread_count();
  return t;
}

int fail(const Status& s) {
  std::fprintf(stderr, "error: %s\n", s.message().c_str());
  return 1;
}

int run_bench_train(const TrainCliOptions& o) {
  const train::TrainerOptions options = trainer_options(o);
  const std::string config = o.config.empty() ? std::string(DSV4_SOURCE_DIR) + "/configs/shakespeare-v4.json" : o.config;
  Result<ModelConfig> c = load_model_config(config);
  if (!c.is_ok()) return fail(c.status());
  Result<std::unique_ptr<train::Trainer>> t = train::Trainer::create(c.value(), options);
  if (!t.is_ok()) return fail(t.status());
  std::mt19937_64 rng(o.seed);
  std::vector<int32_t> tokens(size_t(std::max<int64_t>(1 << 16, 4 * (o.seq + 1))));
  for (int32_t& x : tokens) x = int32_t(rng() % uint64_t(c.value().vocab_size));
  const int timed = 5;
  t.value()->step(tokens);  // warm-up: first-touch allocations
  std::vector<double> secs;
  int64_t tokens_per_step = 0;
  for (int i = 0; i < timed; ++i) {
    const auto t0 = Clock::now();
    tokens_per_step = t.value()->step(tokens).tokens;
    secs.push_back(seconds_since(t0));
  }
  std::sort(secs.begin(), secs.end());
  const double median = secs[secs.size() / 2];
  std::printf("train bench: %s, optimizer %s, batch %lld x grad-accum %lld x seq %lld = %lld tokens/step: "
              "%.0f tokens/s (median step %.3f s of %d, %d thread%s, OpenBLAS %s%s%s)\n",
              config.c_str(), o.optimizer.c_str(), (long long)o.batch, (long long)o.grad_accum, (long long)o.seq,
              (long long)tokens_per_step, double(tokens_per_step) / median, median, timed, options.threads,
              options.threads == 1 ? "" : "s", openblas_core().c_str(), openblas_env_note().empty() ? "" : ", ",
              openblas_env_note().c_str());
  return 0;
}

}  // namespace

int run_train(const TrainCliOptions& o) {
  // The trainer's time is mostly SGEMM: a narrow autodetected core (Prescott here) halves it.
  if (Status s = reexec_for_wide_openblas_core(); !s.is_ok()) return fail(s);
  if (o.bench) return run_bench_train(o);
  if (o.config.empty() || o.data.empty() || o.out.empty())
    return fail(Status::error("train: --config, --data and --out are required (or --bench)"));
  Result<ModelConfig> loaded = load_model_config(o.config);
  if (!loaded.is_ok()) return fail(loaded.status());
  const ModelConfig& config = loaded.value();
  Result<TokenShards> shards = load_token_shards(o.data);
  if (!shards.is_ok()) return fail(shards.status());
  const TokenShards& data = shards.value();
  if (data.vocab_size > config.vocab_size)
    return fail(Status::error("train: the dataset's vocabulary ({}) is larger than the config's vocab_size ({})",
                              data.vocab_size, config.vocab_size));
  if (int64_t(data.train.tokens.size()) < o.seq + 1)
    return fail(Status::error("train: the train split has {} tokens, fewer than seq + 1 = {}",
                              data.train.tokens.size(), o.seq + 1));
  if (data.val.tokens.size() < 2 || data.val.text_bytes <= 0)
    return fail(Status::error("train: the dataset has no validation split (prepare it with --val-fraction > 0)"));
  if (o.stop_at < 0 || o.stop_at > o.steps)
    return fail(Status::error("train: --stop-at {} is outside [0, steps = {}]", o.stop_at, o.steps));

  RunFiles files;
  {
    const std::string cfg = fs::is_directory(o.config) ? o.config + "/config.json" : o.config;
    Result<std::string> bytes = read_file(cfg);
    if (!bytes.is_ok()) return fail(bytes.status());
    files.config_json = std::move(bytes.value());
    std::string tok = o.tokenizer.empty() ? o.data + "/tokenizer.json" : o.tokenizer;
    if (fs::is_directory(tok)) tok += "/tokenizer.json";
    Result<std::string> tb = read_file(tok);
    if (!tb.is_ok())
      return fail(Status::error("train: cannot read the tokenizer {} (pass --tokenizer): {}", tok,
                                tb.status().message()));
    files.tokenizer_json = std::move(tb.value());
    const std::string tc = fs::path(tok).parent_path().string() + "/tokenizer_config.json";
    if (fs::exists(tc)) {
      Result<std::string> b = read_file(tc);
      if (!b.is_ok()) return fail(b.status());
      files.tokenizer_config_json = std::move(b.value());
    }
  }

  Result<std::unique_ptr<train::Trainer>> created = train::Trainer::create(config, trainer_options(o));
  if (!created.is_ok()) return fail(created.status());
  train::Trainer& t = *created.value();
  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec) return fail(Status::error("train: cannot create {}: {}", o.out, ec.message()));

  // The log: on --resume, the lines up to the saved step are kept (a run killed after its last checkpoint
  // logged steps that will be redone) and the curve is rebuilt from them.
  const std::string log_path = o.out + "/log.jsonl";
  PlotSeries train_curve{"train", {}}, val_curve{"validation", {}};
  std::string kept;
  if (o.resume) {
    const std::string state = o.out + "/train_state.safetensors";
    if (!fs::exists(state)) return fail(Status::error("train: --resume: no {}", state));
    Status st = t.load_state(state);
    if (!st.is_ok()) return fail(st);
    std::ifstream in(log_path);
    for (std::string line; std::getline(in, line);) {
      const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.contains("step") || j["step"].get<int64_t>() > t.steps_done()) continue;
      if (j.contains("loss")) train_curve.points.emplace_back(j["step"].get<double>(), j["loss"].get<double>());
      if (j.contains("val_loss")) val_curve.points.emplace_back(j["step"].get<double>(), j["val_loss"].get<double>());
      kept += line + "\n";
    }
  }
  if (Status st = write_file_atomically(log_path, kept); !st.is_ok()) return fail(st);
  std::ofstream log(log_path, std::ios::app);
  if (!log) return fail(Status::error("train: cannot write {}", log_path));

  const double bytes_per_token = double(data.val.text_bytes) / double(data.val.tokens.size());
  auto validate = [&]() {
    const train::ValStats v = t.validate(data.val.tokens, o.val_tokens);
    const double bpb = v.nats_per_token() / bytes_per_token / std::numbers::ln2;
    nlohmann::json j = {{"step", t.steps_done()}, {"val_loss", v.nats_per_token()}, {"val_bpb", bpb},
                        {"val_tokens", v.tokens}};
    log << j.dump() << "\n" << std::flush;
    val_curve.points.emplace_back(double(t.steps_done()), v.nats_per_token());
    std::fprintf(stderr, "\nstep %lld: validation loss %.4f nats/token, %.4f bits/byte (%lld tokens)\n",
                 (long long)t.steps_done(), v.nats_per_token(), bpb, (long long)v.tokens);
  };
  auto checkpoint = [&]() -> Status {
    DSV4_RETURN_IF_ERROR(write_checkpoint(t, o.out, files));
    return write_svg_plot({.title = "Training loss", .x_label = "step", .y_label = "loss (nats/token)",
                           .y_bytes = false, .series = {train_curve, val_curve}, .log_axes = false},
                          o.out + "/loss.svg");
  };

  if (t.steps_done() == 0) validate();
  const int64_t last = o.stop_at > 0 ? o.stop_at : o.steps;
  const int64_t first = t.steps_done();
  const auto start = Clock::now();
  for (int64_t k = first; k < last; ++k) {
    const auto t0 = Clock::now();
    const train::StepStats st = t.step(data.train.tokens);
    const double dt = seconds_since(t0);
    const double tps = double(st.tokens) / dt;
    nlohmann::json j = {{"step", st.step},           {"lr", st.lr},
                        {"loss", st.loss},           {"objective", st.objective},
                        {"grad_norm", st.grad_norm}, {"max_violation", st.max_violation},
                        {"tokens", st.tokens},       {"tokens_per_s", tps}};
    log << j.dump() << "\n" << std::flush;
    train_curve.points.emplace_back(double(st.step), st.loss);
    const double per_step = seconds_since(start) / double(k + 1 - first);
    std::fprintf(stderr, "\rstep %lld/%lld  loss %.4f  lr %.2e  |g| %.3f  maxvio %.2f  %.0f tok/s  ETA %s   ",
                 (long long)st.step, (long long)o.steps, st.loss, st.lr, st.grad_norm, st.max_violation, tps,
                 duration_str(per_step * double(last - st.step)).c_str());
    const bool at_end = st.step == last;
    if ((o.eval_every > 0 && st.step % o.eval_every == 0) || st.step == o.steps) validate();
    if ((o.eval_every > 0 && st.step % o.eval_every == 0) || at_end) {
      if (Status s = checkpoint(); !s.is_ok()) return fail(s);
    }
  }
  if (first == last) {  // nothing to train (already at the end): still leave a loadable directory
    if (Status s = checkpoint(); !s.is_ok()) return fail(s);
  }
  std::fprintf(stderr, "\ntrained to step %lld in %s; model in %s\n", (long long)t.steps_done(),
               duration_str(seconds_since(start)).c_str(), o.out.c_str());
  return 0;
}

}  // namespace dsv4
