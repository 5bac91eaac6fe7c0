#include "bench_bandwidth.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <vector>

namespace dsv4 {

namespace {

using SumFn = float (*)(const float*, size_t);

__attribute__((target("avx512f"))) float sum_avx512(const float* p, size_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  size_t i = 0;
  for (; i + 128 <= n; i += 128) {
    a0 = _mm512_add_ps(a0, _mm512_loadu_ps(p + i));
    a1 = _mm512_add_ps(a1, _mm512_loadu_ps(p + i + 16));
    a2 = _mm512_add_ps(a2, _mm512_loadu_ps(p + i + 32));
    a3 = _mm512_add_ps(a3, _mm512_loadu_ps(p + i + 48));
    a4 = _mm512_add_ps(a4, _mm512_loadu_ps(p + i + 64));
    a5 = _mm512_add_ps(a5, _mm512_loadu_ps(p + i + 80));
    a6 = _mm512_add_ps(a6, _mm512_loadu_ps(p + i + 96));
    a7 = _mm512_add_ps(a7, _mm512_loadu_ps(p + i + 112));
  }
  const __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                                 _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);  // not _mm512_reduce_add_ps: GCC 12 warns inside it (uninitialised __Y)
  float sum = 0;
  for (float l : lanes) sum += l;
  for (; i < n; ++i) sum += p[i];
  return sum;
}

__attribute__((target("avx2"))) float sum_avx2(const float* p, size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(p + i + 24));
    a4 = _mm256_add_ps(a4, _mm256_loadu_ps(p + i + 32));
    a5 = _mm256_add_ps(a5, _mm256_loadu_ps(p + i + 40));
    a6 = _mm256_add_ps(a6, _mm256_loadu_ps(p + i + 48));
    a7 = _mm256_add_ps(a7, _mm256_loadu_ps(p + i + 56));
  }
  const __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                                 _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  float sum = 0;
  for (float l : lanes) sum += l;
  for (; i < n; ++i) sum += p[i];
  return sum;
}

float sum_scalar(const float* p, size_t n) {
  float a[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) a[k] += p[i + size_t(k)];
  float sum = 0;
  for (float x : a) sum += x;
  for (; i < n; ++i) sum += p[i];
  return sum;
}

// The fastest sum this CPU runs, and its name.
SumFn best_sum(const char*& isa) {
  if (__builtin_cpu_supports("avx512f")) return isa = "AVX-512", sum_avx512;
  if (__builtin_cpu_supports("avx2")) return isa = "AVX2", sum_avx2;
  return isa = "scalar", sum_scalar;
}

// Thread t's slice of n floats: whole 512-byte lines.
void slice(size_t n, int t, int threads, size_t& begin, size_t& end) {
  begin = n / 128 * size_t(t) / size_t(threads) * 128;
  end = n / 128 * size_t(t + 1) / size_t(threads) * 128;
}

}  // namespace

float read_pass(const float* p, size_t n, ThreadPool& pool) {
  const char* isa;
  const SumFn sum = best_sum(isa);
  std::vector<float> sums(static_cast<size_t>(pool.size()));
  pool.run([&](int t) {
    size_t b, e;
    slice(n, t, pool.size(), b, e);
    sums[size_t(t)] = sum(p + b, e - b);
  });
  float total = 0;
  for (float s : sums) total += s;
  return total;
}

ReadBandwidth measure_read_bandwidth(size_t bytes, int passes, ThreadPool& pool) {
  ReadBandwidth r;
  best_sum(r.isa);
  const size_t n = std::max<size_t>(bytes / sizeof(float) / 128 * 128, 128);  // whole 512-byte lines
  float* buf = static_cast<float*>(std::aligned_alloc(64, n * sizeof(float)));
  // Each thread first touches the slice it reads.
  pool.run([&](int t) {
    size_t b, e;
    slice(n, t, pool.size(), b, e);
    std::fill(buf + b, buf + e, 1.0f);
  });
  float total = 0;
  double best = 1e300;
  for (int p = 0; p < passes; ++p) {
    const auto t0 = std::chrono::steady_clock::now();
    total += read_pass(buf, n, pool);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::free(buf);
  // The sums must be used or the passes could be optimised away; every element is 1.
  r.gb_s = total > 0 ? double(n * sizeof(float)) / best / 1e9 : 0;
  return r;
}

}  // namespace dsv4
