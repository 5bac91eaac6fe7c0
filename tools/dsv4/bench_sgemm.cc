#include "bench_sgemm.h"

#include <cblas.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace dsv4 {

namespace {
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
