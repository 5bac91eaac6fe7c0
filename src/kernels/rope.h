// Rotary position embedding on interleaved pairs (x[2i], x[2i+1]) read as complex numbers, the layout of
// the reference's apply_rotary_emb; with YaRN frequency interpolation (precompute_freqs_cis).
#pragma once

#include <cstdint>
#include <vector>

namespace dsv4 {

struct RopeParams {
  int rope_dim = 64;             // rotated dims (pairs = rope_dim / 2)
  double theta = 10000;          // base
  int64_t original_seq_len = 0;  // > 0 enables YaRN
  double factor = 1, beta_fast = 32, beta_slow = 1;
};

// f_i = theta^(-2i/rope_dim) for i < rope_dim/2; with YaRN, pairs below the ramp keep f_i, pairs above it
// use f_i / factor, and a linear ramp blends in between. FP32, as the reference computes them.
std::vector<float> rope_frequencies(const RopeParams& p);

// Rotates x[0, 2·freqs.size()) by angle pos·f_i per pair (inverse: by −pos·f_i).
void rope_apply(float* x, const std::vector<float>& freqs, int64_t pos, bool inverse = false);

}  // namespace dsv4
