// dsv4 kv and dsv4 bench --long end to end: the report's JSON fields, one-line errors, and the report's
// total equal to the bytes the engine's cache really allocates in a long run (KvCache::allocated_bytes,
// as bench --long records it).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/config.h"
#include "model/kv_cache.h"
#include "test_util.h"

namespace dsv4 {
namespace {

const std::string kBin = DSV4_BINARY;

std::string tiny_config() { return testing::source_path("tests/data/golden/tiny-fp8/config.json"); }

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) v.push_back(nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false));
  return v;
}

TEST(KvCli, JsonHasEveryConfigContextAndFormat) {
  const auto r = testing::run_command(kBin + " kv --config " + tiny_config() + " --config " +
                                      testing::source_path("configs/deepseek-v4-flash.json") +
                                      " --ctx 1000,1048576 --kv-format fp8 --kv-format bf16 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), size_t((2 + 3) * 2 * 2)) << r.out;  // (configs + 3 reference rows) × ctx × formats
  const ModelConfig flash = load_model_config(testing::source_path("configs/deepseek-v4-flash.json")).value();
  int flash_rows = 0;
  for (const auto& j : lines) {
    ASSERT_TRUE(j.is_object());
    for (const char* f : {"config", "ctx", "kv_format", "bytes_per_token", "total_bytes", "split"})
      ASSERT_TRUE(j.contains(f)) << f << " in " << j.dump();
    const auto& s = j["split"];
    EXPECT_EQ(j["total_bytes"].get<int64_t>(), s["window"].get<int64_t>() + s["entries"].get<int64_t>() +
                                                   s["index_keys"].get<int64_t>() + s["compressor_state"].get<int64_t>());
    if (j["config"] == "deepseek-v4-flash") {
      ++flash_rows;
      const KvFormat f = parse_kv_format(j["kv_format"].get<std::string>()).value();
      EXPECT_EQ(j["total_bytes"].get<int64_t>(), kv_footprint(flash, j["ctx"].get<int64_t>(), f).total());
      EXPECT_NEAR(j["ratio_vs_v3_2"].get<double>(), f.rows == KvElem::kFp8 ? 3508.8 / 48068 : 6880.0 / 85888, 1e-4);
    }
  }
  EXPECT_EQ(flash_rows, 4);
}

TEST(KvCli, WritesCsvAndPlot) {
  testing::TempDir dir;
  const auto r = testing::run_command(kBin + " kv --csv " + dir.str() + "/kv.csv --plot " + dir.str() + "/kv.svg");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("deepseek-v4-flash"), std::string::npos);
  std::ifstream csv(dir.path() / "kv.csv");
  std::string header, line;
  std::getline(csv, header);
  EXPECT_EQ(header.rfind("config,kv_format,ctx,bytes_per_token", 0), 0u) << header;
  int rows = 0;
  while (std::getline(csv, line)) ++rows;
  EXPECT_EQ(rows, (2 + 3) * 5 * 2);  // (V4-Flash, V4-Pro, 3 references) × 5 contexts × 2 formats
  std::ifstream svg(dir.path() / "kv.svg");
  std::stringstream ss;
  ss << svg.rdbuf();
  EXPECT_NE(ss.str().find("<polyline"), std::string::npos);
}

TEST(KvCli, BadInputIsOneLineAndExitOne) {
  for (const std::string args : {" kv --ctx 4096,x", " kv --ctx 0", " kv --kv-format fp5", " kv --config /nonexistent.json",
                                 " kv --plot /nonexistent-dir/a.svg"}) {
    const auto r = testing::run_command(kBin + args);
    EXPECT_EQ(r.exit_code, 1) << args;
    EXPECT_FALSE(r.err.empty()) << args;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << args << ": " << r.err;
  }
}

// A short long-context run on the tiny model: the cache it allocates for the capacity is the report's
// figure for that context and format.
TEST(BenchLongCli, RecordsTheAllocationTheReportPredicts) {
  testing::TempDir dir;
  ASSERT_EQ(testing::run_command(kBin + " make-synthetic --config " + tiny_config() + " --out " + dir.str() + "/m")
                .exit_code,
            0);
  const auto r = testing::run_command(kBin + " bench --long -m " + dir.str() + "/m --long-max 600 --chunk 128 " +
                                      "--decode 2 --kv-format fp8 --long-out " + dir.str() + "/long");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream csv(dir.path() / "long.csv");
  std::string header, row;
  std::getline(csv, header);
  std::getline(csv, row);
  ASSERT_EQ(header,
            "ctx,kv_allocated_bytes,kv_used_bytes,rss_bytes,peak_rss_bytes,prefill_tok_s,decode_tok_s,decode_ref_tok_s");
  std::vector<std::string> f;
  std::stringstream ss(row);
  for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
  ASSERT_EQ(f.size(), 8u) << row;
  EXPECT_EQ(f[0], "600");
  const auto report = testing::run_command(kBin + " kv --config " + tiny_config() + " --ctx 602 --kv-format fp8 --json");
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const auto lines = json_lines(report.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(std::stoll(f[1]), lines[0]["total_bytes"].get<int64_t>());  // capacity = 600 + 2 decode steps
  EXPECT_GT(std::stod(f[5]), 0);
  EXPECT_GT(std::stod(f[6]), 0);
  EXPECT_GT(std::stod(f[7]), 0);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "long-memory.svg"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "long-speed.svg"));
  const auto too_long = testing::run_command(kBin + " bench --long -m " + dir.str() + "/m --long-max 5000");
  EXPECT_EQ(too_long.exit_code, 1);
  EXPECT_EQ(too_long.err.find('\n'), too_long.err.size() - 1) << too_long.err;
}

}  // namespace
}  // namespace dsv4
