// dsv4 bench: end-to-end speed next to the machine's own ceilings measured in the same run — read
// bandwidth for decode, OpenBLAS SGEMM for prefill — and the peak RSS. Without -m it runs a synthetic
// model of configs/bench-v4.json, written once into bench-model/ beside the binary (or --cache) and
// rewritten when the config changes.
//
// Each of the --runs rounds measures, in this order:
//   read bandwidth  best of 5 passes over --bw-mib MiB with the engine's threads (bench_bandwidth.h)
//   SGEMM           M = --prompt, N = K = dim, best of 5 calls on as many OpenBLAS threads (bench_sgemm.h)
//   decode          a 16-token prompt, then --decode greedy Session::append steps: tok/s = 1 / the median
//                   step time; GB/s = the weight bytes a decode token reads (model/cost.h) × tok/s
//   prefill         a fresh Session::sync of --prompt tokens in forward calls of --prefill-chunk tokens
//                   (smaller chunks keep the activations small next to the weights): tok/s, and
//                   GFLOP/s = 2 × (the linears' multiply-adds per token × prompt + the head once) / seconds
//   peak RSS        VmHWM, reset once the bandwidth buffer is freed and before the model runs, so it is
//                   the model's weights, KV cache and activations (SGEMM runs in a child process)
// Reported: medians over the rounds with their min–max spread (ratios are ratios of the medians) and the
// largest peak RSS. The weights are paged in before the first round.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <vector>

#include "bench_bandwidth.h"
#include "bench_long.h"
#include "bench_memory.h"
#include "bench_sgemm.h"
#include "commands.h"
#include "model/cost.h"
#include "model/model.h"
#include "model/synthetic.h"
#include "openblas_env.h"
#include "runtime/session.h"

namespace dsv4 {

namespace {

namespace fs = std::filesystem;

constexpr int kPasses = 5;              // bandwidth passes and SGEMM calls per round; the best counts
constexpr int64_t kDecodePrompt = 16;   // decode starts after this many prompt tokens
constexpr uint64_t kSeed = 1;           // synthetic weights and prompt ids

struct Round {
  double read_gb_s, sgemm_gflop_s, decode_tok_s, prefill_s;
  int64_t peak_rss;
};

struct Spread {
  double median, min, max;
};

Spread spread(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return {n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v.front(), v.back()};
}

Result<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error("{}: cannot open", path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The synthetic model's directory, written first when missing or made from another config.
Result<std::string> synthetic_model(const BenchOptions& o) {
  const std::string config = o.config.empty() ? std::string(DSV4_SOURCE_DIR) + "/configs/bench-v4.json" : o.config;
  std::error_code ec;
  const std::string dir =
      o.cache.empty() ? (fs::read_symlink("/proc/self/exe", ec).parent_path() / "bench-model").string() : o.cache;
  DSV4_ASSIGN_OR_RETURN(const std::string wanted, read_text(config));
  const auto cached = read_text(dir + "/config.json");
  if (cached && cached.value() == wanted && fs::exists(dir + "/model.safetensors", ec)) return dir;
  fmt::print(stderr, "bench: writing the synthetic model of {} into {}\n", config, dir);
  const auto t0 = std::chrono::steady_clock::now();
  DSV4_RETURN_IF_ERROR(write_synthetic_model(config, dir, kSeed, default_thread_pool()));
  fmt::print(stderr, "bench: written in {:.1f} s\n",
             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return dir;
}

// Reads one byte per page of every tensor, so the first round does not pay the page faults.
void page_in(const Checkpoint& ckpt) {
  uint8_t sum = 0;
  for (const TensorView* t : ckpt.tensors())
    for (int64_t i = 0; i < t->nbytes; i += 4096) sum ^= t->data[i];
  volatile uint8_t sink = sum;
  (void)sink;
}

int32_t argmax(std::span<const float> v) { return int32_t(std::max_element(v.begin(), v.end()) - v.begin()); }

// Decode tok/s and prefill seconds on `session`.
Status model_round(Session& session, const std::vector<int32_t>& prompt, int64_t decode, Round& r) {
  session.reset();
  const std::span<const int32_t> head(prompt.data(), std::min(prompt.size(), size_t(kDecodePrompt)));
  DSV4_RETURN_IF_ERROR(session.sync(head));
  std::vector<double> steps;
  int32_t next = argmax(session.logits());
  for (int64_t s = 0; s < decode; ++s) {
    const auto t0 = std::chrono::steady_clock::now();
    DSV4_RETURN_IF_ERROR(session.append(next));
    next = argmax(session.logits());
    steps.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  r.decode_tok_s = 1.0 / spread(steps).median;
  session.reset();
  const auto t0 = std::chrono::steady_clock::now();
  DSV4_RETURN_IF_ERROR(session.sync(prompt));
  r.prefill_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return Status::ok();
}

struct Report {
  std::string model, core, env_note, bw_isa;
  int threads = 0, dim = 0;
  int64_t weight_bytes = 0, kv_bytes = 0, context = 0;
  TokenCost cost;
  double prefill_macs = 0;
  bool rss_reset = true;
  std::vector<Round> rounds;
};

struct Summary {
  Spread read_gb_s, sgemm_gflop_s, decode_tok_s, prefill_tok_s;
  double decode_gb_s, prefill_gflop_s;
  int64_t peak_rss = 0;
};

Summary summarize(const Report& rep, int64_t prompt) {
  const auto over_rounds = [&](auto f) {
    std::vector<double> v;
    for (const Round& r : rep.rounds) v.push_back(f(r));
    return spread(v);
  };
  Summary s;
  s.read_gb_s = over_rounds([](const Round& r) { return r.read_gb_s; });
  s.sgemm_gflop_s = over_rounds([](const Round& r) { return r.sgemm_gflop_s; });
  s.decode_tok_s = over_rounds([](const Round& r) { return r.decode_tok_s; });
  s.prefill_tok_s = over_rounds([&](const Round& r) { return double(prompt) / r.prefill_s; });
  s.decode_gb_s = rep.cost.decode_bytes * s.decode_tok_s.median / 1e9;
  s.prefill_gflop_s = 2 * rep.prefill_macs * s.prefill_tok_s.median / double(prompt) / 1e9;
  for (const Round& r : rep.rounds) s.peak_rss = std::max(s.peak_rss, r.peak_rss);
  return s;
}

void print_json(const Report& rep, const Summary& s) {
  nlohmann::ordered_json j;
  j["decode_tok_s"] = s.decode_tok_s.median;
  j["decode_gb_s"] = s.decode_gb_s;
  j["read_bw_gb_s"] = s.read_gb_s.median;
  j["decode_bw_ratio"] = s.decode_gb_s / s.read_gb_s.median;
  j["prefill_tok_s"] = s.prefill_tok_s.median;
  j["prefill_gflop_s"] = s.prefill_gflop_s;
  j["sgemm_gflop_s"] = s.sgemm_gflop_s.median;
  j["prefill_vs_sgemm_ratio"] = s.prefill_gflop_s / s.sgemm_gflop_s.median;
  j["peak_rss_bytes"] = s.peak_rss;
  j["weight_bytes"] = rep.weight_bytes;
  j["active_bytes_per_token"] = int64_t(rep.cost.decode_bytes + 0.5);
  fmt::print("{}\n", j.dump());
}

std::string show(const Spread& s, const char* unit) {
  return fmt::format("{:10.3f} {:<7}  ({:.3f} – {:.3f})", s.median, unit, s.min, s.max);
}

void print_table(const BenchOptions& o, const Report& rep, const Summary& s) {
  fmt::print("dsv4 bench: {}, {} threads, {} run(s): median (min – max)\n", rep.model, rep.threads,
             rep.rounds.size());
  fmt::print("  weights          {:.3f} GB in files; a decode token reads {:.3f} GB; KV cache {:.2f} MiB at "
             "context {}\n", double(rep.weight_bytes) / 1e9, rep.cost.decode_bytes / 1e9,
             double(rep.kv_bytes) / (1 << 20), rep.context);
  fmt::print("  OpenBLAS core    {}{}\n", rep.core, rep.env_note.empty() ? "" : " (" + rep.env_note + ")");
  fmt::print("  read bandwidth {}   {} read-sum of {} MiB, best of {} passes\n", show(s.read_gb_s, "GB/s"),
             rep.bw_isa, o.bw_mib, kPasses);
  fmt::print("  decode         {}   {} greedy steps after {} prompt tokens\n", show(s.decode_tok_s, "tok/s"),
             o.decode, std::min(kDecodePrompt, o.prompt));
  fmt::print("                 {:10.3f} GB/s     = {:.3f} × the read bandwidth\n", s.decode_gb_s,
             s.decode_gb_s / s.read_gb_s.median);
  fmt::print("  prefill        {}   {} tokens in calls of {}\n", show(s.prefill_tok_s, "tok/s"), o.prompt,
             std::min(o.prefill_chunk, o.prompt));
  fmt::print("                 {:10.3f} GFLOP/s  = {:.3f} × SGEMM ({:.1f} GFLOP in the linears)\n",
             s.prefill_gflop_s, s.prefill_gflop_s / s.sgemm_gflop_s.median, 2 * rep.prefill_macs / 1e9);
  fmt::print("  SGEMM          {}   OpenBLAS {} × {} × {}, best of {} calls\n", show(s.sgemm_gflop_s, "GFLOP/s"),
             o.prompt, rep.dim, rep.dim, kPasses);
  fmt::print("  peak RSS       {:10.3f} GB       = {:.3f} × (weights + KV cache){}\n", double(s.peak_rss) / 1e9,
             double(s.peak_rss) / double(rep.weight_bytes + rep.kv_bytes),
             rep.rss_reset ? "" : " (the high-water mark could not be reset: it includes the bandwidth buffer)");
}

Status bench(const BenchOptions& o) {
  if (!o.keep_openblas_env) DSV4_RETURN_IF_ERROR(reexec_for_openblas());
  if (o.threads > 0) set_default_thread_count(o.threads);
  ThreadPool& pool = default_thread_pool();
  std::string dir = o.model;
  if (dir.empty()) {
    DSV4_ASSIGN_OR_RETURN(dir, synthetic_model(o));
  }

  DSV4_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::load(dir));
  const ModelConfig& c = model->config();
  Report rep;
  rep.model = o.model.empty() ? fmt::format("synthetic {}", dir) : dir;
  rep.core = openblas_core();
  rep.env_note = openblas_env_note();
  rep.threads = pool.size();
  rep.dim = c.dim;
  rep.weight_bytes = int64_t(model->checkpoint().file_bytes());
  rep.context = std::max(o.prompt, std::min(kDecodePrompt, o.prompt) + o.decode);
  rep.kv_bytes = model->new_cache(rep.context).allocated_bytes();
  rep.cost = token_cost(c);
  rep.prefill_macs = rep.cost.linear_macs * double(o.prompt) + rep.cost.head_macs;
  if (!o.json)
    fmt::print(stderr, "bench: {} weight bytes, {:.0f} read per decode token\n", rep.weight_bytes,
               rep.cost.decode_bytes);
  else
    fmt::print(stderr, "bench: OpenBLAS core {}{}\n", rep.core, rep.env_note.empty() ? "" : " (" + rep.env_note + ")");

  std::vector<int32_t> prompt(static_cast<size_t>(o.prompt));
  std::mt19937_64 rng(kSeed);
  for (int32_t& id : prompt) id = int32_t(rng() % uint64_t(c.vocab_size));
  std::unique_ptr<Session> session;
  for (int run = 0; run < o.runs; ++run) {
    Round r{};
    const ReadBandwidth bw = measure_read_bandwidth(size_t(o.bw_mib) << 20, kPasses, pool);
    r.read_gb_s = bw.gb_s;
    rep.bw_isa = bw.isa;
    DSV4_ASSIGN_OR_RETURN(r.sgemm_gflop_s, sgemm_gflop_s(o.prompt, c.dim, c.dim, pool.size(), kPasses));
    rep.rss_reset = reset_peak_rss() && rep.rss_reset;
    if (!session) {
      page_in(model->checkpoint());
      session = std::make_unique<Session>(*model, rep.context, std::min(o.prefill_chunk, o.prompt));
    }
    DSV4_RETURN_IF_ERROR(model_round(*session, prompt, o.decode, r));
    r.peak_rss = peak_rss_bytes();
    rep.rounds.push_back(r);
    if (!o.json)
      fmt::print(stderr, "bench: run {}: read {:.1f} GB/s, SGEMM {:.1f} GFLOP/s, decode {:.3f} tok/s, prefill {:.2f} s\n",
                 run + 1, r.read_gb_s, r.sgemm_gflop_s, r.decode_tok_s, r.prefill_s);
  }
  const Summary summary = summarize(rep, o.prompt);
  if (o.json)
    print_json(rep, summary);
  else
    print_table(o, rep, summary);
  return Status::ok();
}

}  // namespace

int run_bench(const BenchOptions& o) {
  if (o.long_run) return run_bench_long(o);
  const Status st = bench(o);
  if (!st.is_ok()) {
    fmt::print(stderr, "dsv4 bench: {}\n", st.message());
    return 1;
  }
  return 0;
}

}  // namespace dsv4
