// mHC (manifold-constrained hyper-connections): hc_mult residual streams, collapsed before each sub-block
// and re-expanded after it (v4-architecture.md §3.3; Block.hc_pre / hc_post / ParallelHead.hc_head).
// Shapes: x [n, hc, dim] streams, y [n, dim], post [n, hc], comb [n, hc, hc] (row j, column k).
// Tokens are independent: the work is split between threads by token.
#pragma once

#include <cstdint>

#include "base/arena.h"
#include "model/config.h"
#include "model/weights.h"

namespace dsv4 {

// Per token: mixes = (flat(x) · fnᵀ) / rms(flat(x)); pre = sigmoid + eps, post = 2·sigmoid, comb =
// Sinkhorn-normalised; y = Σ_j pre_j · x_j.
void hc_pre(const ModelConfig& c, const HcWeights& w, const float* x, int64_t n, float* y, float* post,
            float* comb, Arena& arena);

// x'_k = post_k · f + Σ_j comb[j][k] · x_j (output stream k takes column k), in place on x.
void hc_post(const ModelConfig& c, const float* f, const float* post, const float* comb, int64_t n, float* x);

// Final collapse: pre = sigmoid(mixes · scale + base) + eps, no Sinkhorn; y = Σ_j pre_j · x_j.
void hc_head(const ModelConfig& c, const HcHeadWeights& w, const float* x, int64_t n, float* y, Arena& arena);

}  // namespace dsv4
