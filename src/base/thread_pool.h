// ThreadPool: a fixed set of workers for data-parallel loops, built for decode, where one token runs
// hundreds of short parallel regions: workers spin briefly on an atomic generation counter before they
// sleep, so a region costs microseconds, not a condition-variable round trip. The calling thread takes
// part as worker 0. A region started from inside a region runs inline (no nesting).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "base/function_ref.h"

namespace dsv4 {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(thread_index) once on each of the size() threads and waits for all of them.
  void run(FunctionRef<void(int)> fn);

  // Calls fn(begin, end) on contiguous, `grain`-aligned pieces that together cover [0, n) exactly once,
  // in parallel; each thread takes the next piece when it is done with one.
  void parallel_for(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn);

 private:
  void worker(int index);

  int n_threads_;
  std::vector<std::thread> threads_;
  FunctionRef<void(int)> task_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

// One per core unless DSV4_THREADS says otherwise.
int default_thread_count();
// The process-wide pool the kernels use: default_thread_count() threads.
ThreadPool& default_thread_pool();
// Replaces the default pool's size (before any use, e.g. from a --threads flag).
void set_default_thread_count(int n);

}  // namespace dsv4
