// The OpenBLAS reference of `dsv4 bench`: SGEMM GFLOP/s, the OpenBLAS core in use, and the environment
// OpenBLAS reads when it loads. The machine presets OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE=512,
// which halve SGEMM (machine.md §7.1); the bench changes them for its own command only.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace dsv4 {

// Re-executes /proc/self/exe with the same arguments (setenv is too late: libopenblas reads its
// variables when it loads) until OpenBLAS runs its best kernels:
//   1. without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE;
//   2. then, if autodetection picked a core below the CPU's vector width (0.3.21 does not know every CPU
//      model: on family 6 model 207 it falls back to Prescott, SSE3), with OPENBLAS_CORETYPE=SkylakeX
//      (AVX-512) or Haswell (AVX2), the choice machine.md §7.1 names.
// Returns when nothing (more) needs changing, or with the error of a failed exec.
Status reexec_for_openblas();
// What reexec_for_openblas changed ("removed OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=512; …"), or the
// variables in effect ("kept …"), or "".
std::string openblas_env_note();

std::string openblas_core();  // openblas_get_corename()

// Row-major C[m, n] = A[m, k] · B[k, n] on `threads` OpenBLAS threads: GFLOP/s (2mnk) of the best of
// `reps` calls after one warm-up. Runs in a forked child, so OpenBLAS's worker threads and buffers never
// compete with the engine's pool or count in the bench's peak RSS.
Result<double> sgemm_gflop_s(int64_t m, int64_t n, int64_t k, int threads, int reps);

}  // namespace dsv4
