// Google Benchmark for the kernels: matrix products per weight format in decode (1 activation row:
// bandwidth, reported as bytes/s of weights streamed; `stream` from DRAM beside a plain read) and prefill
// (256 rows: FLOP/s) shapes, attention, the quantizers. `--benchmark_filter=` picks; DSV4_ISA=avx2|scalar
// runs the slower variants.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <random>
#include <vector>

#include "base/cpu_features.h"
#include "base/thread_pool.h"
#include "bench_bandwidth.h"
#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/quantize.h"

namespace dsv4 {
namespace {

struct Weights {
  std::vector<uint8_t> data, scale;
  WeightMatrix w;
};

Weights make_weights(WeightFormat f, int64_t rows, int64_t cols) {
  std::mt19937 rng(1);
  Weights m;
  m.w.format = f;
  m.w.rows = rows;
  m.w.cols = cols;
  const int64_t bytes = f == WeightFormat::kFP4 ? rows * cols / 2 : rows * cols * (f == WeightFormat::kBF16 ? 2 : f == WeightFormat::kF32 ? 4 : 1);
  m.data.resize(size_t(bytes));
  for (auto& b : m.data) b = uint8_t(rng() & 0x77);  // finite codes
  if (f == WeightFormat::kBF16)
    for (size_t i = 1; i < m.data.size(); i += 2) m.data[i] = 0x3f;
  if (f == WeightFormat::kF32)
    for (size_t i = 0; i < m.data.size(); i += 4) m.data[i + 3] = 0x3f;
  if (f == WeightFormat::kFP8) m.scale.assign(size_t(((rows + 127) / 128) * ((cols + 127) / 128)), 120);
  if (f == WeightFormat::kFP4) m.scale.assign(size_t(rows * cols / 32), 120);
  m.w.data = m.data.data();
  m.w.scale = m.scale.empty() ? nullptr : m.scale.data();
  m.w.quantize_input = f == WeightFormat::kFP8 || f == WeightFormat::kFP4;
  return m;
}

void BM_Matmul(benchmark::State& state) {
  const auto f = WeightFormat(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2), m = state.range(3);
  const Weights w = make_weights(f, rows, cols);
  std::vector<float> x(size_t(m * cols), 0.5f), y(size_t(m * rows));
  for (auto _ : state) {
    matmul(w.w, x.data(), m, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(std::string(weight_format_name(f)) + " " + isa_name(active_isa()));
  state.SetBytesProcessed(state.iterations() * w.w.weight_bytes());
  state.counters["GFLOP/s"] =
      benchmark::Counter(double(2 * m * rows * cols) * double(state.iterations()), benchmark::Counter::kIsRate,
                         benchmark::Counter::kIs1000);
}

void decode_shapes(benchmark::internal::Benchmark* b) {
  for (auto f : {WeightFormat::kFP8, WeightFormat::kFP4, WeightFormat::kBF16}) b->Args({int64_t(f), 4096, 4096, 1});
  b->Args({int64_t(WeightFormat::kFP4), 2048, 4096, 1});
}
void small_shapes(benchmark::internal::Benchmark* b) {  // operands resident in cache: the compute cost
  for (int64_t k : {512, 1024, 4096}) b->Args({int64_t(WeightFormat::kF32), 64, k, 48});
  b->Args({int64_t(WeightFormat::kFP8), 1024, 1024, 1});  // 1 MiB of weights: GEMV decode cost per byte
  b->Args({int64_t(WeightFormat::kFP4), 1024, 2048, 1});
  b->Args({int64_t(WeightFormat::kBF16), 512, 1024, 1});
}
BENCHMARK(BM_Matmul)->Name("matmul/cached")->Apply(small_shapes)->UseRealTime()->Unit(benchmark::kMicrosecond);
void prefill_shapes(benchmark::internal::Benchmark* b) {
  for (auto f : {WeightFormat::kFP8, WeightFormat::kFP4, WeightFormat::kBF16, WeightFormat::kF32})
    b->Args({int64_t(f), 4096, 4096, 256});
}
// Decode from memory: copies of one matrix, 768 MiB in all (beyond any last-level cache), one product each
// in turn, so every call streams its weights from DRAM as a real decode step does. Each call is paired
// with a plain read of as many bytes by the same threads; `x_read` is the product's speed over that read's.
double seconds_of(const std::function<void()>& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void BM_MatmulStream(benchmark::State& state) {
  const auto f = WeightFormat(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2);
  const Weights w = make_weights(f, rows, cols);
  std::vector<uint8_t> one = w.data;  // the codes, then their scales, as a checkpoint lays them out
  one.insert(one.end(), w.scale.begin(), w.scale.end());
  const size_t bytes = one.size(), copies = std::max<size_t>(4, (size_t(768) << 20) / bytes);
  const std::vector<std::vector<uint8_t>> data(copies, one);
  std::vector<float> x(static_cast<size_t>(cols), 0.5f), y(static_cast<size_t>(rows));
  ThreadPool& pool = default_thread_pool();
  float sum = 0;
  double product_s = 0, read_s = 0;
  size_t i = 0;
  for (auto _ : state) {
    WeightMatrix m = w.w;
    m.data = data[i % copies].data();
    if (m.scale) m.scale = data[i % copies].data() + w.data.size();
    const double t = seconds_of([&] { matmul(m, x.data(), 1, y.data()); });
    state.SetIterationTime(t);
    product_s += t;
    const uint8_t* other = data[(i + copies / 2) % copies].data();
    read_s += seconds_of([&] { sum += read_pass(reinterpret_cast<const float*>(other), bytes / sizeof(float), pool); });
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(sum);
    ++i;
  }
  state.SetLabel(std::string(weight_format_name(f)) + " " + isa_name(active_isa()));
  state.SetBytesProcessed(state.iterations() * w.w.weight_bytes());
  state.counters["x_read"] = read_s / product_s;
}
BENCHMARK(BM_MatmulStream)->Name("matmul/stream")->Apply(decode_shapes)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Matmul)->Name("matmul/decode")->Apply(decode_shapes)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Matmul)->Name("matmul/prefill")->Apply(prefill_shapes)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Attention(benchmark::State& state) {
  const int H = 64, d = 512, n = int(state.range(0));
  std::vector<float> q(size_t(H * d), 0.01f), kv(size_t(n * d), 0.02f), o(size_t(H * d)), sink(size_t(H), 0.0f);
  std::vector<const float*> list;
  for (int j = 0; j < n; ++j) list.push_back(kv.data() + size_t(j) * d);
  for (auto _ : state) {
    sparse_attention(q.data(), H, d, list.data(), n, {}, sink.data(), 0.044f, o.data());
    benchmark::DoNotOptimize(o.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(4.0 * H * n * d * double(state.iterations()),
                                                 benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_Attention)->Arg(144)->Arg(640)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_Fp8Simulate(benchmark::State& state) {
  std::vector<float> x(4096);
  std::mt19937 rng(2);
  std::normal_distribution<float> nd;
  for (float& v : x) v = nd(rng);
  for (auto _ : state) {
    fp8_simulate(x.data(), 4096, 128);
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations() * 4096);
}
BENCHMARK(BM_Fp8Simulate);

}  // namespace
}  // namespace dsv4

BENCHMARK_MAIN();
