// Encoding and decoding speed of the DeepSeek tokenizer on tinyshakespeare (1.1 MB of English), in MB/s on
// one core. BM_EncodeTinyShakespeare runs with the word cache warm, the steady state of a server;
// BM_EncodeColdCache loads a fresh tokenizer (untimed) before each pass, so every word is merged once.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <optional>

#include "text/tokenizer.h"
#include "text/tokenizer_test_util.h"

namespace dsv4 {
namespace {

struct Input {
  const Tokenizer* tokenizer = nullptr;
  std::string text;
  std::vector<int32_t> ids;
};

const Input* load_input(benchmark::State& state) {
  static const Input* input = [] {
    auto tokenizer = deepseek_tokenizer();
    auto text = read_tinyshakespeare();
    if (!tokenizer || !text) {
      std::fprintf(stderr, "%s\n", (!tokenizer ? tokenizer.status() : text.status()).message().c_str());
      return static_cast<Input*>(nullptr);
    }
    auto* in = new Input{tokenizer.value(), std::move(text).value(), {}};
    in->ids = in->tokenizer->encode(in->text).value();
    return in;
  }();
  if (!input) state.SkipWithError("tokenizer or tinyshakespeare missing (run scripts/setup.sh)");
  return input;
}

void BM_EncodeTinyShakespeare(benchmark::State& state) {
  const Input* in = load_input(state);
  if (!in) return;
  for (auto _ : state) {
    auto ids = in->tokenizer->encode(in->text);
    benchmark::DoNotOptimize(ids);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(in->text.size()));
  state.counters["tokens"] = double(in->ids.size());
}
BENCHMARK(BM_EncodeTinyShakespeare)->Unit(benchmark::kMillisecond);

void BM_EncodeColdCache(benchmark::State& state) {
  const Input* in = load_input(state);
  if (!in) return;
  const std::string dir = source_path(kDeepSeekPackageDir) + "/models/";
  std::optional<Result<Tokenizer>> fresh;
  for (auto _ : state) {
    state.PauseTiming();
    fresh.reset();
    fresh.emplace(Tokenizer::load(dir + "tokenizer.json"));
    state.ResumeTiming();
    auto ids = fresh->value().encode(in->text);
    benchmark::DoNotOptimize(ids);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(in->text.size()));
}
BENCHMARK(BM_EncodeColdCache)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_DecodeTinyShakespeare(benchmark::State& state) {
  const Input* in = load_input(state);
  if (!in) return;
  for (auto _ : state) {
    auto text = in->tokenizer->decode(in->ids);
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(in->text.size()));
}
BENCHMARK(BM_DecodeTinyShakespeare)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace dsv4

BENCHMARK_MAIN();
