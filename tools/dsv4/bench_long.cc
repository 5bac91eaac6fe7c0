// dsv4 bench --long: one sequence grown to --long-max tokens (default 1,048,576) on a small synthetic
// V4 model (configs/long-v4.json: one SWA, one CSA and one HCA layer), the cache sized for the whole
// context up front in --kv-format (default fp8, the deployed layout). Prefill runs in --chunk-token
// calls; at each checkpoint (4K, 32K, 128K, 512K, 1M, and the maximum) it records
//   kv_allocated_bytes  KvCache::allocated_bytes() (constant: the cache is allocated for the capacity)
//   kv_used_bytes       the footprint of a cache sized for the tokens held so far (what this context needs)
//   rss_bytes           VmRSS now; peak_rss_bytes VmHWM
//   prefill_tok_s       over the chunks since the previous checkpoint
//   decode_tok_s        1 / the median of --decode single-token steps (with logits), then the state is
//                       restored (KvSnapshot) so the prefill continues from the checkpoint
//   decode_ref_tok_s    the same on a second sequence held at the first checkpoint (4K), its steps
//                       interleaved with the long sequence's in four rounds: the shared machine's speed
//                       drifts over a run of minutes, so each checkpoint gets its own reference, measured
//                       under the same conditions, for the ratio "decode at this context vs at 4K"
// and writes a CSV and two SVG charts (memory, speed) named after --long-out, after every checkpoint.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <tuple>
#include <utility>
#include <vector>

#include "bench_long.h"
#include "model/model.h"
#include "model/synthetic.h"
#include "svg_plot.h"

namespace dsv4 {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

int64_t status_bytes(const char* key) {  // a "kB" field of /proc/self/status, in bytes
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string k = std::string(key) + ":";
  while (std::getline(in, line))
    if (line.rfind(k, 0) == 0) return std::stoll(line.substr(k.size())) * 1024;
  return 0;
}

Result<std::string> long_model(const BenchOptions& o) {
  const std::string config =
      o.config.empty() ? std::string(DSV4_SOURCE_DIR) + "/configs/long-v4.json" : o.config;
  std::error_code ec;
  const std::string dir =
      o.cache.empty() ? (fs::read_symlink("/proc/self/exe", ec).parent_path() / "bench-long-model").string() : o.cache;
  std::ifstream want_in(config, std::ios::binary), have_in(dir + "/config.json", std::ios::binary);
  if (!want_in) return Status::error("{}: cannot open", config);
  std::stringstream want, have;
  want << want_in.rdbuf();
  have << have_in.rdbuf();
  if (have_in && want.str() == have.str() && fs::exists(dir + "/model.safetensors", ec)) return dir;
  fmt::print(stderr, "bench --long: writing the synthetic model of {} into {}\n", config, dir);
  DSV4_RETURN_IF_ERROR(write_synthetic_model(config, dir, /*seed=*/1, default_thread_pool()));
  return dir;
}

struct Point {
  int64_t ctx = 0, kv_allocated = 0, kv_used = 0, rss = 0, peak_rss = 0;
  double prefill_tok_s = 0, decode_tok_s = 0, decode_ref_tok_s = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

Status write_outputs(const std::vector<Point>& pts, const std::string& out, const std::string& title) {
  std::ofstream csv(out + ".csv");
  if (!csv) return Status::error("{}.csv: cannot write", out);
  csv << "ctx,kv_allocated_bytes,kv_used_bytes,rss_bytes,peak_rss_bytes,prefill_tok_s,decode_tok_s,"
         "decode_ref_tok_s\n";
  for (const Point& p : pts)
    csv << fmt::format("{},{},{},{},{},{:.2f},{:.3f},{:.3f}\n", p.ctx, p.kv_allocated, p.kv_used, p.rss,
                       p.peak_rss, p.prefill_tok_s, p.decode_tok_s, p.decode_ref_tok_s);
  if (!csv) return Status::error("{}.csv: write failed", out);
  PlotSpec mem{"Memory vs context — " + title, "context (tokens)", "bytes", true, {}};
  PlotSpec speed{"Speed vs context — " + title, "context (tokens)", "tokens / s", false, {}};
  PlotSeries alloc{"KV allocated (capacity)", {}}, used{"KV needed at this context", {}}, rss{"process RSS", {}};
  PlotSeries pre{"prefill tok/s", {}}, dec{"decode tok/s", {}},
      ref{"decode tok/s at " + std::to_string(pts.front().ctx) + ", measured alongside", {}};
  for (const Point& p : pts) {
    alloc.points.emplace_back(double(p.ctx), double(p.kv_allocated));
    used.points.emplace_back(double(p.ctx), double(p.kv_used));
    rss.points.emplace_back(double(p.ctx), double(p.rss));
    pre.points.emplace_back(double(p.ctx), p.prefill_tok_s);
    dec.points.emplace_back(double(p.ctx), p.decode_tok_s);
    ref.points.emplace_back(double(p.ctx), p.decode_ref_tok_s);
  }
  mem.series = {alloc, used, rss};
  speed.series = {pre, dec, ref};
  DSV4_RETURN_IF_ERROR(write_svg_plot(mem, out + "-memory.svg"));
  return write_svg_plot(speed, out + "-speed.svg");
}

// One sequence of the bench: its cache, position and token stream.
struct Sequence {
  KvCache cache;
  int64_t pos = 0;
  std::mt19937 rng;
};

void prefill_to(Model& m, Sequence& q, int64_t target, int64_t chunk) {
  const ModelConfig& c = m.config();
  std::uniform_int_distribution<int32_t> token(2, c.vocab_size - 1);
  std::vector<int32_t> ids(static_cast<size_t>(chunk));
  std::vector<float> x(size_t(chunk * c.hc_dim()));
  while (q.pos < target) {
    const int64_t n = std::min(chunk, target - q.pos);
    for (int64_t i = 0; i < n; ++i) ids[size_t(i)] = token(q.rng);
    m.embed(ids.data(), n, x.data());
    m.forward_blocks(ids.data(), n, q.pos, q.cache, x.data());
    q.pos += n;
  }
}

// `steps` greedy single-token steps from q.pos + done, appending each step's seconds to `times`.
void decode_steps(Model& m, Sequence& q, int64_t done, int64_t steps, int32_t& next, std::vector<double>& times) {
  std::vector<float> logits(size_t(m.config().vocab_size));
  for (int64_t s = done; s < done + steps; ++s) {
    const auto d0 = Clock::now();
    m.forward(&next, 1, q.pos + s, q.cache, logits.data());
    next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    times.push_back(std::chrono::duration<double>(Clock::now() - d0).count());
  }
}

// Decode speed of `q` and of `ref` in interleaved rounds (medians), both states restored afterwards.
std::pair<double, double> decode_speeds(Model& m, Sequence& q, Sequence& ref, int64_t steps) {
  if (steps == 0) return {0.0, 0.0};
  const KvSnapshot snap = take_snapshot(q.cache), ref_snap = take_snapshot(ref.cache);
  std::uniform_int_distribution<int32_t> token(2, m.config().vocab_size - 1);
  int32_t next = token(q.rng), ref_next = token(ref.rng);
  std::vector<double> times, ref_times;
  const int64_t rounds = std::min<int64_t>(4, steps);
  for (int64_t r = 0, done = 0; r < rounds; ++r) {
    const int64_t n = (steps - done) / (rounds - r);
    decode_steps(m, q, done, n, next, times);
    decode_steps(m, ref, done, n, ref_next, ref_times);
    done += n;
  }
  restore_snapshot(q.cache, snap);
  restore_snapshot(ref.cache, ref_snap);
  return {1.0 / median(times), 1.0 / median(ref_times)};
}

}  // namespace

int run_bench_long(const BenchOptions& o) {
  const auto fail = [](const Status& s) {
    fmt::print(stderr, "dsv4 bench --long: {}\n", s.message());
    return 1;
  };
  const auto format = parse_kv_format(o.kv_format);
  if (!format) return fail(format.status());
  const auto dir = o.model.empty() ? long_model(o) : Result<std::string>(o.model);
  if (!dir) return fail(dir.status());
  auto loaded = Model::load(dir.value());
  if (!loaded) return fail(loaded.status());
  Model& m = *loaded.value();
  const ModelConfig& c = m.config();
  const int64_t max_ctx = o.long_max, chunk = o.chunk, steps = o.decode;
  if (max_ctx + steps > c.max_position_embeddings)
    return fail(Status::error("--long-max {} + --decode {} exceeds the model's max_position_embeddings {}", max_ctx,
                              steps, c.max_position_embeddings));
  std::vector<int64_t> marks;
  for (int64_t k : {int64_t(4096), int64_t(32768), int64_t(131072), int64_t(524288), int64_t(1048576)})
    if (k < max_ctx) marks.push_back(k);
  marks.push_back(max_ctx);

  Sequence seq{m.new_cache(max_ctx + steps, format.value()), 0, std::mt19937(1)};
  fmt::print(stderr, "bench --long: {} ({} layers), KV cache for {} tokens in {}: {:.1f} MiB allocated\n",
             dir.value(), c.n_layers, max_ctx + steps, kv_format_name(format.value()),
             double(seq.cache.allocated_bytes()) / (1 << 20));
  // The reference sequence, held at the first checkpoint (its own small cache).
  Sequence ref{m.new_cache(marks.front() + steps, format.value()), 0, std::mt19937(2)};
  prefill_to(m, ref, marks.front(), chunk);
  std::vector<Point> pts;
  for (int64_t mark : marks) {
    const auto t0 = Clock::now();
    const int64_t start = seq.pos;
    prefill_to(m, seq, mark, chunk);
    Point p;
    p.ctx = mark;
    p.prefill_tok_s = double(mark - start) / std::chrono::duration<double>(Clock::now() - t0).count();
    std::tie(p.decode_tok_s, p.decode_ref_tok_s) = decode_speeds(m, seq, ref, steps);
    p.kv_allocated = seq.cache.allocated_bytes();
    p.kv_used = kv_footprint(c, mark, format.value()).total();
    p.rss = status_bytes("VmRSS");
    p.peak_rss = status_bytes("VmHWM");
    pts.push_back(p);
    fmt::print("ctx {:>9}  KV allocated {:>9.1f} MiB  KV used {:>9.1f} MiB  RSS {:>8.1f} MiB  peak {:>8.1f} MiB  "
               "prefill {:>8.1f} tok/s  decode {:>7.2f} tok/s  (at {}: {:>7.2f} tok/s, ratio {:.3f})\n",
               p.ctx, double(p.kv_allocated) / (1 << 20), double(p.kv_used) / (1 << 20), double(p.rss) / (1 << 20),
               double(p.peak_rss) / (1 << 20), p.prefill_tok_s, p.decode_tok_s, marks.front(), p.decode_ref_tok_s,
               p.decode_ref_tok_s > 0 ? p.decode_tok_s / p.decode_ref_tok_s : 0.0);
    std::fflush(stdout);
    // Rewritten at every checkpoint, so an interrupted run keeps what it measured.
    if (!o.long_out.empty())
      if (Status s = write_outputs(pts, o.long_out, fs::path(dir.value()).filename().string() + ", KV " +
                                                        kv_format_name(format.value()));
          !s)
        return fail(s);
  }
  return 0;
}

}  // namespace dsv4
