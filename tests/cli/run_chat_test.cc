// dsv4 run and dsv4 chat end to end on a golden model (with the tiny tokenizer): streaming output,
// seeded reproducibility, the chat format, stop strings, errors; chat driven through a pseudo-terminal.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>

#include "test_util.h"

namespace dsv4 {
namespace {

const std::string kBin = DSV4_BINARY;

class RunCli : public ::testing::Test {
 protected:
  void SetUp() override { testing::make_tiny_model_dir("tiny-fp8", dir_.path()); }
  testing::CommandResult run(const std::string& args) {
    return testing::run_command(kBin + " run -m " + dir_.str() + " " + args);
  }
  testing::TempDir dir_;
};

TEST_F(RunCli, SameSeedSameOutput) {
  const auto a = run("-p 'Once upon a time' -n 24 --seed 7 --temp 0.8 --top-p 0.95");
  const auto b = run("-p 'Once upon a time' -n 24 --seed 7 --temp 0.8 --top-p 0.95");
  const auto c = run("-p 'Once upon a time' -n 24 --seed 8 --temp 0.8 --top-p 0.95");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_FALSE(a.out.empty());
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
  EXPECT_NE(a.err.find("generation: 24 tokens"), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("tok/s"), std::string::npos) << a.err;
}

TEST_F(RunCli, GreedyIsDeterministicAndStopsAtStopStrings) {
  const auto g = run("-p 'To be, or not' -n 16 --temp 0");
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_EQ(g.out, run("-p 'To be, or not' -n 16 --temp 0 --seed 99").out);
  ASSERT_GE(g.out.size(), 4u);
  const std::string stop = g.out.substr(2, 2);  // cut the greedy text at a string it contains
  const auto s = run("-p 'To be, or not' -n 16 --temp 0 --stop '" + stop + "'");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(s.out, g.out.substr(0, g.out.find(stop)) + "\n");
  EXPECT_NE(s.err.find("finish: stop"), std::string::npos) << s.err;
}

TEST_F(RunCli, ChatAndThinkingModesAndLogprobs) {
  const auto r = run("-p 'What is 2+2?' --think --effort max -n 8 --temp 0 --logprobs 3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("logprob"), std::string::npos) << r.err;
  const auto plain = run("-p 'What is 2+2?' -n 8 --temp 0");
  const auto chat = run("-p 'What is 2+2?' --chat -n 8 --temp 0");
  // The chat format adds the user/assistant markers: a longer prompt than the raw text with BOS.
  const std::regex prompt_tokens("prompt: ([0-9]+) tokens");
  std::smatch a, b;
  ASSERT_TRUE(std::regex_search(plain.err, a, prompt_tokens)) << plain.err;
  ASSERT_TRUE(std::regex_search(chat.err, b, prompt_tokens)) << chat.err;
  EXPECT_EQ(std::stoi(b[1]), std::stoi(a[1]) + 3);  // + <｜User｜>, <｜Assistant｜> and </think> (chat mode)
}

TEST_F(RunCli, ErrorsAreOneLine) {
  auto r = run("-p 'a long prompt that does not fit' --ctx 4");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("exceeds the context of 4 tokens"), std::string::npos) << r.err;
  std::filesystem::remove(dir_.path() / "tokenizer.json");
  r = run("-p hi");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no tokenizer.json"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
}

// Drives `dsv4 chat` through a pseudo-terminal, as a user at a keyboard would.
class PtyChat {
 public:
  explicit PtyChat(const std::string& args) {
    pid_ = ::forkpty(&fd_, nullptr, nullptr, nullptr);
    if (pid_ == 0) {
      ::execl("/bin/sh", "sh", "-c", (kBin + " chat " + args).c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~PtyChat() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }
  void send(const std::string& line) { ASSERT_EQ(::write(fd_, line.data(), line.size()), ssize_t(line.size())); }
  // Reads until `needle` appears (after what was consumed before) or the timeout passes.
  bool wait_for(const std::string& needle, int seconds = 60) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < end) {
      const size_t at = out_.find(needle, consumed_);
      if (at != std::string::npos) {
        consumed_ = at + needle.size();
        return true;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 200) > 0) {
        char buf[4096];
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n <= 0) break;
        out_.append(buf, size_t(n));
      }
    }
    return false;
  }
  int wait_exit() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  const std::string& output() const { return out_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string out_;
  size_t consumed_ = 0;
};

TEST(ChatCli, MultiTurnThroughAPseudoTerminal) {
  testing::TempDir dir;
  testing::make_tiny_model_dir("tiny-fp8", dir.path());
  PtyChat chat("-m " + dir.str() + " -n 6 --seed 5");
  ASSERT_TRUE(chat.wait_for("/exit")) << chat.output();
  ASSERT_TRUE(chat.wait_for("> ")) << chat.output();
  chat.send("Hello there\n");
  ASSERT_TRUE(chat.wait_for("(0 reused)")) << chat.output();
  ASSERT_TRUE(chat.wait_for("> ")) << chat.output();
  chat.send("/think on\n");
  ASSERT_TRUE(chat.wait_for("(thinking on)")) << chat.output();
  chat.send("And why?\n");
  ASSERT_TRUE(chat.wait_for("\x1b[2m")) << "reasoning is shown dim: " << chat.output();
  ASSERT_TRUE(chat.wait_for("reused)")) << chat.output();
  chat.send("Tell me more\n");
  ASSERT_TRUE(chat.wait_for("reused)")) << chat.output();
  ASSERT_TRUE(chat.wait_for("]")) << chat.output();
  // The third turn reuses the cached conversation instead of prefilling it again.
  const std::string out = chat.output();
  const std::regex stats(R"(\[prompt ([0-9]+) tokens \(([0-9]+) reused\))");
  std::vector<std::pair<int, int>> turns;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), stats); it != std::sregex_iterator(); ++it)
    turns.emplace_back(std::stoi((*it)[1]), std::stoi((*it)[2]));
  ASSERT_EQ(turns.size(), 3u) << out;
  EXPECT_GT(turns[2].second, turns[1].first - 2) << out;
  chat.send("/reset\n");
  ASSERT_TRUE(chat.wait_for("(conversation cleared)")) << chat.output();
  chat.send("/exit\n");
  EXPECT_EQ(chat.wait_exit(), 0);
}

}  // namespace
}  // namespace dsv4
