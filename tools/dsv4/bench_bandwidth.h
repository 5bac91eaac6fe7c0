// STREAM-like read bandwidth: each thread of a pool sums its own contiguous slice of one buffer with
// eight vector accumulators (AVX-512, else AVX2, else scalar; a plain `sum += x` loop is not vectorised
// without -ffast-math and reaches a fraction of the bandwidth, machine.md §2.3). Bytes are counted as
// STREAM counts them: the buffer's size per pass.
#pragma once

#include <cstddef>

#include "base/thread_pool.h"

namespace dsv4 {

struct ReadBandwidth {
  double gb_s = 0;         // best pass, 1e9 bytes per second
  const char* isa = "";    // "AVX-512", "AVX2" or "scalar"
};

// One read pass over the n floats at p (any alignment) by the pool's threads, each summing its own slice
// of whole 512-byte lines (a shorter tail is not read); returns the sum.
float read_pass(const float* p, size_t n, ThreadPool& pool);

// Allocates and first-touches `bytes` (from the pool's threads), times `passes` full read passes and
// frees the buffer again.
ReadBandwidth measure_read_bandwidth(size_t bytes, int passes, ThreadPool& pool);

}  // namespace dsv4
