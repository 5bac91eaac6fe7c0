#include "base/thread_pool.h"

#include <algorithm>
#include <cstdlib>
#include <memory>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace dsv4 {

namespace {
thread_local bool t_in_region = false;

void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

// Spin this many rounds (~tens of microseconds) before sleeping: decode regions come back to back.
constexpr int kSpinRounds = 20000;
// A parallel_for piece is what is left divided by (threads × this).
constexpr int64_t kPiecesPerThread = 4;
}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
  for (int i = 1; i < n_threads_; ++i) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::worker(int index) {
  uint64_t seen = 0;
  while (true) {
    uint64_t g = generation_.load(std::memory_order_acquire);
    for (int spin = 0; g == seen && spin < kSpinRounds; ++spin) {
      cpu_relax();
      g = generation_.load(std::memory_order_acquire);
    }
    if (g == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      g = generation_.load(std::memory_order_acquire);
    }
    seen = g;
    if (stop_.load()) return;
    t_in_region = true;
    task_(index);
    t_in_region = false;
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::run(FunctionRef<void(int)> fn) {
  if (n_threads_ == 1 || t_in_region) {
    for (int i = 0; i < n_threads_; ++i) fn(i);
    return;
  }
  task_ = fn;
  pending_.store(n_threads_ - 1, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mutex_);  // orders the store against a worker going to sleep
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  wake_.notify_all();
  t_in_region = true;
  fn(0);
  t_in_region = false;
  while (pending_.load(std::memory_order_acquire) != 0) cpu_relax();
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t units = (n + grain - 1) / grain;
  const int parts = int(std::min<int64_t>(n_threads_, units));
  if (parts == 1 || t_in_region) {
    fn(0, n);
    return;
  }
  // Pieces are claimed, not assigned: a thread that the machine slows down (another process, a page
  // fault) leaves its remaining pieces to the others instead of making them wait. Each piece is a share
  // of what is left, so pieces shrink toward the end and the threads finish close together.
  std::atomic<int64_t> next{0};
  run([&](int t) {
    if (t >= parts) return;
    int64_t u = next.load(std::memory_order_relaxed);
    while (u < units) {
      const int64_t piece = std::max<int64_t>(1, (units - u) / (int64_t(parts) * kPiecesPerThread));
      if (!next.compare_exchange_weak(u, u + piece, std::memory_order_relaxed)) continue;
      fn(u * grain, std::min(n, (u + piece) * grain));
      u = next.load(std::memory_order_relaxed);
    }
  });
}

int default_thread_count() {
  if (const char* env = std::getenv("DSV4_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

namespace {
std::unique_ptr<ThreadPool>& pool_slot() {
  static std::unique_ptr<ThreadPool> pool;
  return pool;
}
}  // namespace

ThreadPool& default_thread_pool() {
  auto& p = pool_slot();
  if (!p) p = std::make_unique<ThreadPool>(default_thread_count());
  return *p;
}

void set_default_thread_count(int n) { pool_slot() = std::make_unique<ThreadPool>(n); }

}  // namespace dsv4
