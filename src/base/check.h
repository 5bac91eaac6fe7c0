// Internal invariants. DSV4_CHECK is always on and belongs on cold paths (shapes at setup, sizes at
// load); DSV4_DCHECK compiles away in release builds and may sit in loops. A failed check is a bug in
// dsv4, never a user error: user errors are reported through Status (status.h).
#pragma once

#include <cstdio>
#include <cstdlib>

namespace dsv4::detail {
[[noreturn]] inline void check_failed(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "dsv4: internal check failed: %s (%s:%d)\n", cond, file, line);
  std::abort();
}
}  // namespace dsv4::detail

#define DSV4_CHECK(cond) \
  ((cond) ? (void)0 : ::dsv4::detail::check_failed(#cond, __FILE__, __LINE__))

#ifdef NDEBUG
#define DSV4_DCHECK(cond) ((void)0)
#else
#define DSV4_DCHECK(cond) DSV4_CHECK(cond)
#endif
