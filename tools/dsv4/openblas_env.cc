#include "openblas_env.h"

#include <cblas.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
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

}  // namespace

Status reexec_for_openblas() {
  if (!std::getenv(kNoteVar)) {
    std::string removed;
    for (const char* v : kOpenblasVars)
      if (const char* value = std::getenv(v)) removed += fmt::format(" {}={}", v, value);
    if (!removed.empty()) {
      for (const char* v : kOpenblasVars) ::unsetenv(v);
      return reexec("removed" + removed);
    }
  }
  return reexec_for_wide_openblas_core();
}

Status reexec_for_wide_openblas_core() {
  const std::string core = openblas_core();
  if (std::getenv("OPENBLAS_CORETYPE") || core_width(core) >= cpu_width()) return Status::ok();
  const char* better = cpu_width() == 512 ? "SkylakeX" : "Haswell";
  ::setenv("OPENBLAS_CORETYPE", better, 1);
  const char* done = std::getenv(kNoteVar);
  const std::string note = done ? done : "";
  return reexec(fmt::format("{}{}autodetection chose {}, below this CPU's vector width: OPENBLAS_CORETYPE={}", note,
                            note.empty() ? "" : "; ", core, better));
}

std::string openblas_env_note() {
  if (const char* note = std::getenv(kNoteVar)) return note;
  std::string kept;
  for (const char* v : kOpenblasVars)
    if (const char* value = std::getenv(v)) kept += fmt::format(" {}={}", v, value);
  return kept.empty() ? "" : "kept" + kept;
}

std::string openblas_core() { return openblas_get_corename(); }

}  // namespace dsv4
