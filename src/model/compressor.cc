#include "model/compressor.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"
#include "kernels/hadamard.h"
#include "kernels/matmul.h"
#include "kernels/quantize.h"
#include "kernels/rmsnorm.h"
#include "kernels/rope.h"

namespace dsv4 {

namespace {

// Softmax-weighted sum over the filled slots, channel by channel. With overlap, slots [0, r) contribute
// channels [0, d) (previous block) and slots [r, 2r) channels [d, 2d) (current block).
void pool_entry(const CompressorState& s, int d, float* out) {
  const int r = s.ratio;
  const bool overlap = r == 4;
  const int n_slots = overlap ? 2 * r : r;
  for (int ch = 0; ch < d; ++ch) {
    float mx = -INFINITY;
    for (int i = 0; i < n_slots; ++i) {
      const int col = overlap && i >= r ? d + ch : ch;
      mx = std::fmax(mx, s.score[size_t(i * s.width + col)]);
    }
    float e[8 * 128];  // n_slots <= 2 · 4 (overlap) or 128
    float denom = 0.0f;
    for (int i = 0; i < n_slots; ++i) {
      const int col = overlap && i >= r ? d + ch : ch;
      denom += e[i] = std::exp(s.score[size_t(i * s.width + col)] - mx);
    }
    // Normalised weights first, then the weighted sum: the reference's (kv · softmax(score)).sum().
    float acc = 0.0f;
    for (int i = 0; i < n_slots; ++i) {
      const int col = overlap && i >= r ? d + ch : ch;
      acc += e[i] / denom * s.kv[size_t(i * s.width + col)];
    }
    out[ch] = acc;
  }
}

void finish_entry(const LayerContext& ctx, const CompressorWeights& w, CompressedKind kind, int64_t first_pos,
                  float* e) {
  const int d = w.head_dim, rd = ctx.config.rope_head_dim;
  rmsnorm(e, w.norm.data(), d, ctx.config.norm_eps, e);
  rope_apply(e + d - rd, ctx.rope, first_pos);
  if (kind == CompressedKind::kIndexerKey) {
    hadamard_transform(e, d);
    fp4_simulate(e, d, 32);
  } else {
    fp8_simulate(e, d - rd, 64);
  }
}

}  // namespace

CompressorInput compressor_project(const CompressorWeights& w, const float* x, int64_t rows, Arena& arena,
                                   MatmulJobs& jobs) {
  float* kv = arena.alloc<float>(size_t(rows * w.wkv.rows));
  float* score = arena.alloc<float>(size_t(rows * w.wgate.rows));
  jobs.add(w.wkv, x, rows, kv);
  jobs.add(w.wgate, x, rows, score);
  return {kv, score, w.wkv.rows};
}

void compressor_forward(const LayerContext& ctx, const CompressorWeights& w, CompressedKind kind,
                        CompressorState& state, const CompressorInput& in, KvRows& entries) {
  const int r = w.ratio, d = w.head_dim, width = state.width;
  const bool overlap = r == 4;
  DSV4_CHECK(in.width == width);
  const float* kv = in.kv;
  const float* score = in.score;
  float* e = ctx.arena.alloc<float>(size_t(d));
  for (int64_t t = 0; t < ctx.n; ++t) {
    const int64_t pos = ctx.start_pos + t;
    const int phase = int(pos % r);
    const size_t slot = size_t((overlap ? r : 0) + phase) * size_t(width);
    const float* ape = w.ape + phase * width;
    for (int ch = 0; ch < width; ++ch) {
      state.kv[slot + size_t(ch)] = kv[t * width + ch];
      state.score[slot + size_t(ch)] = score[t * width + ch] + ape[ch];
    }
    if (phase != r - 1) continue;
    const int64_t c = pos / r;
    pool_entry(state, d, e);
    finish_entry(ctx, w, kind, c * r, e);
    entries.store(c, e);
    if (overlap) {  // the completed block becomes the previous one
      const size_t half = size_t(r * width);
      std::copy(state.kv.begin() + long(half), state.kv.end(), state.kv.begin());
      std::copy(state.score.begin() + long(half), state.score.end(), state.score.begin());
    }
  }
}

}  // namespace dsv4
