// The environment OpenBLAS reads when it loads, and the core it then runs. The machine presets
// OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE=512, which halve SGEMM (machine.md §7.1); without them,
// OpenBLAS 0.3.21's autodetection does not know every CPU model (family 6 model 207 falls back to Prescott,
// SSE3, a quarter of this CPU's width). Setting a variable in-process is too late, so these re-execute
// /proc/self/exe with the same arguments.
#pragma once

#include <string>

#include "base/status.h"

namespace dsv4 {

// For `dsv4 bench` (its own command only): re-executes until OpenBLAS runs its best kernels:
//   1. without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE;
//   2. then as reexec_for_wide_openblas_core().
// Returns when nothing (more) needs changing, or with the error of a failed exec.
Status reexec_for_openblas();
// If OPENBLAS_CORETYPE is unset and autodetection picked a core below the CPU's vector width, re-executes
// with OPENBLAS_CORETYPE=SkylakeX (AVX-512) or Haswell (AVX2), the choice machine.md §7.1 names. A preset
// OPENBLAS_CORETYPE is kept: it is the user's.
Status reexec_for_wide_openblas_core();
// What the re-executions changed ("removed OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=512; …"), or the
// variables in effect ("kept …"), or "".
std::string openblas_env_note();

std::string openblas_core();  // openblas_get_corename()

}  // namespace dsv4
