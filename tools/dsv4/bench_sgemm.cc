#include "bench_sgemm.h"

#include <cblas.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace dsv4 {

namespace {
constexpr const char* kOpenblasVars[] = {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"};
constexpr const char* kNoteVar = "DSV4_BENCH_OPENBLAS";  // what the re-execs changed: for the report, and
                                                         // so that the variables are removed only once

// Widest vector ISA of an OpenBLAS core (names of OpenBLAS's dynamic.c), and of this CPU.
int core_width(std::string core) {
  for (char& ch : core) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  if (core == "skylakex" || core == "cooperlake" || core == "sapphirerapids") return 512;
  if (core == "haswell" || core == "zen") return 256;
  return 128;
}
int cpu_width() { return __builtin_cpu_supports("avx512f") ? 512 : __builtin_cpu_supports("avx2") ? 256 : 128; }

Status reexec(const std::string& note) {
  ::setenv(kNoteVar, note.c_str(), 1);
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<char*> argv;
  for (size_t i = 0; i < cmdline.size(); i += std::strlen(cmdline.data() + i) + 1)
    argv.push_back(const_cast<char*>(cmdline.data() + i));
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  ::execv("/proc/self/exe", argv.data());
  return Status::error("cannot re-execute /proc/self/exe ({}): {}", note, std::strerror(errno));
}

double sgemm_best_seconds(int64_t m, int64_t n, int64_t k, int reps) {
  std::vector<float> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n)), c(static_cast<size_t>(m * n));
  for (size_t i = 0; i < a.size(); ++i) a[i] = float(i % 13) * 0.01f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = float(i % 7) * 0.02f;
  const auto call = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(n), int(k), 1.0f, a.data(), int(k),
                b.data(), int(n), 0.0f, c.data(), int(n));
  };
  call();
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    call();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}
}  // namespace

Status reexec_for_openblas() {
  const char* done = std::getenv(kNoteVar);
  std::string note = done ? done : "";
  if (!done) {
    std::string removed;
    for (const char* v : kOpenblasVars)
      if (const char* value = std::getenv(v)) removed += fmt::format(" {}={}", v, value);
    if (!removed.empty()) {
      for (const char* v : kOpenblasVars) ::unsetenv(v);
      return reexec("removed" + removed);
    }
  }
  const std::string core = openblas_core();
  if (!std::getenv("OPENBLAS_CORETYPE") && core_width(core) < cpu_width()) {
    const char* better = cpu_width() == 512 ? "SkylakeX" : "Haswell";
    ::setenv("OPENBLAS_CORETYPE", better, 1);
    return reexec(fmt::format("{}{}autodetection chose {}, below this CPU's vector width: OPENBLAS_CORETYPE={}", note,
                              note.empty() ? "" : "; ", core, better));
  }
  return Status::ok();
}

std::string openblas_env_note() {
  if (const char* note = std::getenv(kNoteVar)) return note;
  std::string kept;
  for (const char* v : kOpenblasVars)
    if (const char* value = std::getenv(v)) kept += fmt::format(" {}={}", v, value);
  return kept.empty() ? "" : "kept" + kept;
}

std::string openblas_core() { return openblas_get_corename(); }

Result<double> sgemm_gflop_s(int64_t m, int64_t n, int64_t k, int threads, int reps) {
  int fds[2];
  if (::pipe(fds) != 0) return Status::error("sgemm: pipe failed: {}", std::strerror(errno));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) return Status::error("sgemm: fork failed: {}", std::strerror(errno));
  if (pid == 0) {  // the child: only OpenBLAS and plain memory; _exit skips the parent's static destructors
    ::close(fds[0]);
    openblas_set_num_threads(threads);
    const double seconds = sgemm_best_seconds(m, n, k, reps);
    const bool ok = ::write(fds[1], &seconds, sizeof seconds) == ssize_t(sizeof seconds);
    ::_exit(ok ? 0 : 1);
  }
  ::close(fds[1]);
  double seconds = 0;
  ssize_t got;
  do {
    got = ::read(fds[0], &seconds, sizeof seconds);
  } while (got < 0 && errno == EINTR);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (got != ssize_t(sizeof seconds) || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !(seconds > 0))
    return Status::error("sgemm: the measuring child process failed (status {})", status);
  return 2.0 * double(m) * double(n) * double(k) / seconds / 1e9;
}

}  // namespace dsv4
