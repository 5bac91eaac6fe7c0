// Random-weight DeepSeek-V4 checkpoints in the official layout and formats, for benchmarks and tests:
// exactly the tensors of expected_tensors(config), in their official dtypes. Values are scaled so
// activations stay O(1) through many layers (what the reference's golden generator aimed at,
// tests/data/golden/tiny-fp8/README.md):
//   linears      N(0, 1/in), stored as FP8 e4m3 with 128×128 E8M0 scales, FP4 e2m1 packed two per byte
//                (low nibble = even element) with 1×32 E8M0 scales, or BF16; each block's scale is the
//                smallest power of two that fits its amax (2^ceil(log2(amax/448)), /6 for FP4)
//   embedding    N(0, 1); norm weights 1
//   mHC          hc_*_fn N(0, 1e-3): the mixes stay near the bases, which give pre = 0.5, post = 1 and a
//                near-identity comb (diagonal logit 4 before Sinkhorn); hc scales 1
//   others       attention sinks 0, gate.bias 0, compressor ape N(0, 0.02), tid2eid distinct experts per row
// Normal values are an Irwin–Hall approximation (four 16-bit lanes of one 64-bit draw), good enough for
// weights and far cheaper than Box–Muller. Every tensor has its own counter-based stream keyed by
// (seed, name), so the bytes depend on neither the thread count nor the order tensors are produced in.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "base/thread_pool.h"
#include "model/config.h"

namespace dsv4 {

// Writes the checkpoint to the safetensors file `path` (streamed: memory stays at a few MiB per thread),
// tensors produced in parallel on `pool`.
Status write_synthetic_checkpoint(const ModelConfig& config, const std::string& path, uint64_t seed,
                                  ThreadPool& pool);

// A model directory: `dir`/model.safetensors for the config at `config_path` (a config.json file or a
// directory holding one), then a byte copy of that file as `dir`/config.json. Creates `dir` if needed.
Status write_synthetic_model(const std::string& config_path, const std::string& dir, uint64_t seed,
                             ThreadPool& pool);

}  // namespace dsv4
