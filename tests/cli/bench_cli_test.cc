// dsv4 make-synthetic and dsv4 bench end to end on the tiny FP8/FP4 config: a model directory that
// `run` accepts, seeded files, one-line errors, and the bench's single JSON line with every field.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "test_util.h"

namespace dsv4 {
namespace {

const std::string kBin = DSV4_BINARY;

std::string config() { return testing::source_path("tests/data/golden/tiny-fp8/config.json"); }

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(MakeSyntheticCli, WritesARunnableModelDirectoryPerSeed) {
  testing::TempDir dir;
  const std::string a = dir.str() + "/a", b = dir.str() + "/b";
  const auto r = testing::run_command(kBin + " make-synthetic --config " + config() + " --out " + a +
                                      " --seed 5 --tokenizer " + testing::source_path("tests/data/tiny-tokenizer"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"})
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "a" / f)) << f;
  const auto run = testing::run_command(kBin + " run -m " + a + " -p 'Hello' -n 4 --temp 0");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  const auto again = testing::run_command(kBin + " make-synthetic --config " + config() + " --out " + b + " --seed 5");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(read(dir.path() / "a/model.safetensors") == read(dir.path() / "b/model.safetensors"));
}

TEST(MakeSyntheticCli, ErrorsAreOneLine) {
  testing::TempDir dir;
  std::ofstream(dir.path() / "bad.json") << R"({"model_type": "deepseek_v4"})";
  const auto r =
      testing::run_command(kBin + " make-synthetic --config " + dir.str() + "/bad.json --out " + dir.str() + "/m");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad.json"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "m/model.safetensors"));
}

TEST(BenchCli, JsonIsOneLineWithEveryFieldPositive) {
  testing::TempDir dir;
  ASSERT_EQ(testing::run_command(kBin + " make-synthetic --config " + config() + " --out " + dir.str()).exit_code, 0);
  const auto r = testing::run_command(kBin + " bench -m " + dir.str() +
                                      " --runs 1 --prompt 16 --decode 4 --bw-mib 16 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.out.find('\n'), r.out.size() - 1) << r.out;
  const auto j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(j.is_object()) << r.out;
  const char* fields[] = {"decode_tok_s",    "decode_gb_s",   "read_bw_gb_s",           "decode_bw_ratio",
                          "prefill_tok_s",   "prefill_gflop_s", "sgemm_gflop_s",        "prefill_vs_sgemm_ratio",
                          "peak_rss_bytes",  "weight_bytes",  "active_bytes_per_token"};
  EXPECT_EQ(j.size(), std::size(fields)) << r.out;
  for (const char* f : fields) {
    ASSERT_TRUE(j.contains(f) && j[f].is_number()) << f << " in " << r.out;
    EXPECT_GT(j[f].get<double>(), 0) << f;
  }
  EXPECT_EQ(j["weight_bytes"].get<int64_t>(), int64_t(std::filesystem::file_size(dir.path() / "model.safetensors")));
  EXPECT_LT(j["active_bytes_per_token"].get<int64_t>(), j["weight_bytes"].get<int64_t>());
  EXPECT_NEAR(j["decode_bw_ratio"].get<double>(), j["decode_gb_s"].get<double>() / j["read_bw_gb_s"].get<double>(),
              1e-9);
  EXPECT_NE(r.err.find("OpenBLAS core"), std::string::npos) << r.err;
}

TEST(BenchCli, RejectsAModelAndAConfigTogether) {
  const auto r = testing::run_command(kBin + " bench -m x --config y");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("excludes"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dsv4
