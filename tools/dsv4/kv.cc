// dsv4 kv: the KV cache of one sequence, per token and in total at each context length, in the storage
// formats the engine holds (model/kv_rows.h), split by kind — window rings, compressed entries, indexer
// keys, compressor state — with DeepSeek-V3.2 and a dense GQA model of the same size class as
// reference rows (v4-architecture.md §4). The V4 figures come from kv_footprint(), the function whose
// result make_kv_cache() is tested to allocate exactly; the reference rows are their published layouts.
#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "model/config.h"
#include "model/kv_cache.h"
#include "svg_plot.h"

namespace dsv4 {

namespace {

namespace fs = std::filesystem;

struct Split {
  int64_t window = 0, entries = 0, index_keys = 0, compressor_state = 0;
  int64_t total() const { return window + entries + index_keys + compressor_state; }
};

// One row of the report: a V4 config in the chosen format, or a reference model.
struct Row {
  std::string name, format;
  double bytes_per_token = 0, payload_per_token = 0;  // amortized; payload = without block scales
  std::vector<Split> at;                             // per context length
};

// A per-token cache with no per-sequence part: `layers` × (entry + index key) bytes per token.
Row reference_row(std::string name, std::string format, int layers, double entry, double index_key,
                  double payload_entry, double payload_key, const std::vector<int64_t>& ctx) {
  Row r{std::move(name), std::move(format), layers * (entry + index_key), layers * (payload_entry + payload_key), {}};
  for (int64_t n : ctx)
    r.at.push_back({0, int64_t(n * layers * entry), int64_t(n * layers * index_key), 0});
  return r;
}

// DeepSeek-V3.2: MLA latent 512 + RoPE 64 per token per layer, 61 layers, plus the indexer's 128-dim key.
// BF16 as the reference holds it; deployed (FlashMLA FP8): 512 e4m3 + 4 FP32 scales + 64 BF16 = 656 B,
// indexer key 128 e4m3 + one FP32 scale = 132 B. Dense GQA of the same class: Llama-3.1-405B's shape,
// 126 layers × 8 KV heads × 128 dims, K and V; FP8 with per-tensor scales (no per-token scale bytes).
std::vector<Row> reference_rows(bool deployed, const std::vector<int64_t>& ctx) {
  constexpr int kV32Layers = 61, kGqaLayers = 126;
  constexpr double kGqaValues = 2.0 * 8 * 128;
  if (deployed)
    return {reference_row("deepseek-v3.2 (MLA)", "fp8", kV32Layers, 656, 0, 512 + 128, 0, ctx),
            reference_row("deepseek-v3.2 (MLA+indexer)", "fp8", kV32Layers, 656, 132, 512 + 128, 128, ctx),
            reference_row("dense GQA 405B-class", "fp8", kGqaLayers, kGqaValues, 0, kGqaValues, 0, ctx)};
  return {reference_row("deepseek-v3.2 (MLA)", "bf16", kV32Layers, 1152, 0, 1152, 0, ctx),
          reference_row("deepseek-v3.2 (MLA+indexer)", "bf16", kV32Layers, 1152, 256, 1152, 256, ctx),
          reference_row("dense GQA 405B-class", "bf16", kGqaLayers, 2 * kGqaValues, 0, 2 * kGqaValues, 0, ctx)};
}

Row v4_row(const std::string& name, const ModelConfig& c, KvFormat format, const std::vector<int64_t>& ctx) {
  Row r{name, kv_format_name(format), kv_bytes_per_token(c, format), kv_bytes_per_token(c, format, false), {}};
  for (int64_t n : ctx) {
    const KvFootprint f = kv_footprint(c, n, format);
    r.at.push_back({f.window, f.entries, f.index_keys, f.compressor_state});
  }
  return r;
}

std::string config_name(const std::string& path) {
  const fs::path p(path);
  return p.filename() == "config.json" && p.has_parent_path() ? p.parent_path().filename().string() : p.stem().string();
}

Result<std::vector<int64_t>> parse_ctx(const std::string& list) {
  std::vector<int64_t> out;
  size_t i = 0;
  while (i <= list.size()) {
    const size_t j = std::min(list.find(',', i), list.size());
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(list.data() + i, list.data() + j, v);
    if (ec != std::errc() || end != list.data() + j || v <= 0 || v > (int64_t(1) << 40))
      return Status::error("--ctx: '{}' is not a positive token count (expected e.g. 4096,65536,1048576)",
                           list.substr(i, j - i));
    out.push_back(v);
    i = j + 1;
  }
  return out;
}

std::string gib(int64_t b) { return fmt::format("{:.3f}", double(b) / double(int64_t(1) << 30)); }

void print_table(const std::vector<Row>& rows, const std::vector<int64_t>& ctx, const std::string& title,
                 double v32_bytes) {
  fmt::print("{}\n", title);
  fmt::print("{:<30} {:>10} {:>10} {:>8}", "model", "B/token", "payload", "vs V3.2");
  for (int64_t n : ctx) fmt::print(" {:>11}", fmt::format("GiB@{}", n));
  fmt::print("\n");
  for (const Row& r : rows) {
    fmt::print("{:<30} {:>10.1f} {:>10.1f} {:>7.1f}%", r.name, r.bytes_per_token, r.payload_per_token,
               100.0 * r.bytes_per_token / v32_bytes);
    for (const Split& s : r.at) fmt::print(" {:>11}", gib(s.total()));
    fmt::print("\n");
  }
  fmt::print("split at {} tokens (GiB): {:<19} {:>10} {:>10} {:>10} {:>10}\n", ctx.back(), "", "window", "entries",
             "index keys", "compressor");
  for (const Row& r : rows) {
    const Split& s = r.at.back();
    fmt::print("  {:<47} {:>10} {:>10} {:>10} {:>10}\n", r.name, gib(s.window), gib(s.entries), gib(s.index_keys),
               gib(s.compressor_state));
  }
  fmt::print("\n");
}

}  // namespace

int run_kv(const KvOptions& o) {
  const auto fail = [](const Status& s) {
    fmt::print(stderr, "dsv4 kv: {}\n", s.message());
    return 1;
  };
  const auto ctx = parse_ctx(o.ctx);
  if (!ctx) return fail(ctx.status());
  std::vector<KvFormat> formats;
  for (const std::string& name : o.kv_formats) {
    const auto f = parse_kv_format(name);
    if (!f) return fail(f.status());
    formats.push_back(f.value());
  }
  if (formats.empty()) formats = {parse_kv_format("bf16").value(), parse_kv_format("fp8").value()};
  std::vector<std::string> configs = o.configs;
  if (configs.empty())
    for (const char* f : {"deepseek-v4-flash.json", "deepseek-v4-pro.json"})
      configs.push_back(std::string(DSV4_SOURCE_DIR) + "/configs/" + f);
  std::vector<std::pair<std::string, ModelConfig>> models;
  for (const std::string& path : configs) {
    auto c = load_model_config(path);
    if (!c) return fail(c.status());
    models.emplace_back(config_name(path), std::move(c).value());
  }

  std::vector<Row> all;
  for (const KvFormat& format : formats) {
    const bool deployed = format.rows == KvElem::kFp8;
    std::vector<Row> rows;
    for (const auto& [name, c] : models) rows.push_back(v4_row(name, c, format, ctx.value()));
    const std::vector<Row> refs = reference_rows(deployed, ctx.value());
    const double v32 = refs[1].bytes_per_token;  // V3.2 MLA + indexer in the same class of format
    rows.insert(rows.end(), refs.begin(), refs.end());
    if (!o.json) {
      const std::string title =
          format.rows == KvElem::kFp8
              ? fmt::format("KV format {}: nope FP8 e4m3 + E8M0 scale per 64, RoPE BF16; indexer keys {} + E8M0 "
                            "scale per 32 (V3.2/GQA rows: their FP8 deployments)",
                            kv_format_name(format), format.index_keys == KvElem::kFp4 ? "FP4 e2m1" : "FP8 e4m3")
              : fmt::format("KV format {}: every row and key in {} (V3.2/GQA rows in BF16)", kv_format_name(format),
                            format.rows == KvElem::kBF16 ? "BF16" : "FP32");
      print_table(rows, ctx.value(), title, v32);
    } else {
      for (const Row& r : rows)
        for (size_t i = 0; i < ctx.value().size(); ++i) {
          const Split& s = r.at[i];
          const nlohmann::json j = {{"config", r.name},
                                    {"ctx", ctx.value()[i]},
                                    {"kv_format", r.format},
                                    {"bytes_per_token", r.bytes_per_token},
                                    {"payload_bytes_per_token", r.payload_per_token},
                                    {"total_bytes", s.total()},
                                    {"ratio_vs_v3_2", r.bytes_per_token / v32},
                                    {"split",
                                     {{"window", s.window},
                                      {"entries", s.entries},
                                      {"index_keys", s.index_keys},
                                      {"compressor_state", s.compressor_state}}}};
          fmt::print("{}\n", j.dump());
        }
    }
    all.insert(all.end(), rows.begin(), rows.end());
  }

  if (!o.csv.empty()) {
    std::ofstream out(o.csv);
    if (!out) return fail(Status::error("{}: cannot write", o.csv));
    out << "config,kv_format,ctx,bytes_per_token,payload_bytes_per_token,total_bytes,window,entries,index_keys,"
           "compressor_state\n";
    for (const Row& r : all)
      for (size_t i = 0; i < ctx.value().size(); ++i) {
        const Split& s = r.at[i];
        out << fmt::format("{},{},{},{:.2f},{:.2f},{},{},{},{},{}\n", r.name, r.format, ctx.value()[i],
                           r.bytes_per_token, r.payload_per_token, s.total(), s.window, s.entries, s.index_keys,
                           s.compressor_state);
      }
    if (!out) return fail(Status::error("{}: write failed", o.csv));
  }
  if (!o.plot.empty()) {
    PlotSpec spec{"KV cache of one sequence vs context", "context (tokens)", "KV bytes", true, {}};
    for (const Row& r : all) {
      PlotSeries s{r.name + " " + r.format, {}};
      for (size_t i = 0; i < ctx.value().size(); ++i) s.points.emplace_back(double(ctx.value()[i]), double(r.at[i].total()));
      spec.series.push_back(std::move(s));
    }
    if (Status s = write_svg_plot(spec, o.plot); !s) return fail(s);
  }
  return 0;
}

}  // namespace dsv4
