// `dsv4 serve` end to end: tests/server/openai_e2e.mjs drives live servers on the tiny golden model with
// the official `openai` npm client. Fails (never skips) when node or the package is missing.
#include <gtest/gtest.h>

#include "test_util.h"

namespace dsv4 {
namespace {

TEST(ServeE2e, OpenAiClient) {
  const testing::CommandResult node = testing::run_command("node --version");
  ASSERT_EQ(node.exit_code, 0) << "node is required (Node.js 20): " << node.err;
  testing::TempDir dir;
  const std::filesystem::path model = dir.path() / "tiny-fp8";
  std::filesystem::create_directory(model);
  testing::make_tiny_model_dir("tiny-fp8", model);
  // `timeout` bounds the whole run even if the script's own deadline fails; the script kills its servers.
  const testing::CommandResult r = testing::run_command("timeout -k 5 280 node " +
                                                        testing::source_path("tests/server/openai_e2e.mjs") + " " +
                                                        DSV4_BINARY + " " + model.string());
  std::cout << r.out;
  EXPECT_EQ(r.exit_code, 0) << r.err << "\n(the openai package comes from scripts/setup.sh: npm ci)";
  EXPECT_NE(r.out.find("checks passed"), std::string::npos);
}

// A reduced run of the load test (the full one: tests/server/load_test.mjs with its defaults, 16 clients x
// 10 requests): concurrent streaming clients, no failures, memory flat, nothing left active or queued.
TEST(ServeE2e, ConcurrentStreamingClients) {
  testing::TempDir dir;
  const std::filesystem::path model = dir.path() / "tiny-fp8";
  std::filesystem::create_directory(model);
  testing::make_tiny_model_dir("tiny-fp8", model);
  const testing::CommandResult r = testing::run_command(
      "timeout -k 5 280 node " + testing::source_path("tests/server/load_test.mjs") + " " + DSV4_BINARY + " " +
      model.string() + " --clients 16 --requests 2 --max-tokens 4 --parallel 4");
  std::cout << r.out;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("32/32 ok, 0 failed"), std::string::npos);
}

}  // namespace
}  // namespace dsv4
