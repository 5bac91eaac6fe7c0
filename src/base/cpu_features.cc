#include "base/cpu_features.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace dsv4 {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "?";
}

namespace {

#if defined(__x86_64__)
uint64_t xgetbv0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

Isa detect() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return Isa::kScalar;
  const bool osxsave = c & (1u << 27), fma = c & (1u << 12), f16c = c & (1u << 29);
  if (!osxsave) return Isa::kScalar;
  const uint64_t xcr0 = xgetbv0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6, zmm_state = (xcr0 & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return Isa::kScalar;
  const bool avx2 = b & (1u << 5);
  const bool avx512f = b & (1u << 16), avx512dq = b & (1u << 17), avx512bw = b & (1u << 30),
             avx512vl = b & (1u << 31), avx512vbmi = c & (1u << 1), avx512vnni = c & (1u << 11);
  unsigned a1 = 0, b1, c1, d1;
  __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1);
  const bool avx512bf16 = a1 & (1u << 5);
  if (zmm_state && avx2 && fma && f16c && avx512f && avx512dq && avx512bw && avx512vl && avx512vbmi && avx512vnni &&
      avx512bf16)
    return Isa::kAvx512;
  if (ymm_state && avx2 && fma && f16c) return Isa::kAvx2;
  return Isa::kScalar;
}
#else
Isa detect() { return Isa::kScalar; }
#endif

Isa env_limit() {
  const char* e = std::getenv("DSV4_ISA");
  if (!e) return Isa::kAvx512;
  if (!std::strcmp(e, "scalar")) return Isa::kScalar;
  if (!std::strcmp(e, "avx2")) return Isa::kAvx2;
  return Isa::kAvx512;
}

std::atomic<int> g_limit{-1};

}  // namespace

Isa cpu_isa() {
  static const Isa isa = detect();
  return isa;
}

Isa active_isa() {
  int limit = g_limit.load(std::memory_order_relaxed);
  if (limit < 0) {
    limit = int(env_limit());
    g_limit.store(limit, std::memory_order_relaxed);
  }
  return Isa(std::min(int(cpu_isa()), limit));
}

void set_isa_limit(Isa limit) { g_limit.store(int(limit), std::memory_order_relaxed); }

}  // namespace dsv4
