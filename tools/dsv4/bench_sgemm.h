// The OpenBLAS reference of `dsv4 bench`: SGEMM GFLOP/s (the core and environment: openblas_env.h).
#pragma once

#include <cstdint>

#include "base/status.h"

namespace dsv4 {

// Row-major C[m, n] = A[m, k] · B[k, n] on `threads` OpenBLAS threads: GFLOP/s (2mnk) of the best of
// `reps` calls after one warm-up. Runs in a forked child, so OpenBLAS's worker threads and buffers never
// compete with the engine's pool or count in the bench's peak RSS.
Result<double> sgemm_gflop_s(int64_t m, int64_t n, int64_t k, int threads, int reps);

}  // namespace dsv4
