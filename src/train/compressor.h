// The KV compressor for training (model/compressor.cc, v4-architecture.md §3.7), forward and backward,
// over a whole sequence starting at position 0:
//   k_t = x_t·wkvᵀ,  g_t = x_t·wgateᵀ + ape[t mod r]                      ([n, coff·d], coff = 2 if r = 4)
//   entry c: per channel, softmax over the block's slots of g, weighted sum of k — with overlap (r = 4)
//            slots 0..r−1 are block c−1's tokens on channels [0, d), slots r..2r−1 block c's on [d, 2d);
//   e_c = RoPE(RMSNorm(pooled_c; norm), position c·r) on the last rope dims.
// Entries exist for complete blocks only (c < n / r). Plain FP32/FP64: the engine's FP8 (main) and
// Hadamard + FP4 (indexer) simulations of the finished entry are not part of training here.
#pragma once

#include <string>
#include <vector>

#include "train/ops.h"

namespace dsv4::train {

struct CompressorDims {
  int64_t dim = 0;   // D (input width)
  int64_t d = 0;     // entry width (head_dim, or index_head_dim)
  int rope_dim = 0;  // rotated dims at the end of the entry
  int ratio = 4;
  double norm_eps = 1e-6;
  int coff() const { return ratio == 4 ? 2 : 1; }
  int64_t width() const { return coff() * d; }
  int slots() const { return coff() * ratio; }  // tokens pooled into one entry
};

template <typename T>
struct CompressorParams {
  std::vector<T> wkv;    // [coff·d, D]
  std::vector<T> wgate;  // [coff·d, D]
  std::vector<T> ape;    // [r, coff·d]
  std::vector<T> norm;   // [d]
  void resize(const CompressorDims& c);  // zero-filled, shaped for c
  template <typename F>
  void for_each(const std::string& prefix, F&& f) {
    f(prefix + "wkv.weight", wkv);
    f(prefix + "wgate.weight", wgate);
    f(prefix + "ape", ape);
    f(prefix + "norm.weight", norm);
  }
};


template <typename T>
void CompressorParams<T>::resize(const CompressorDims& c) {
  wkv.assign(size_t(c.width() * c.dim), T(0));
  wgate.assign(size_t(c.width() * c.dim), T(0));
  ape.assign(size_t(c.ratio * c.width()), T(0));
  norm.assign(size_t(c.d), T(0));
}

template <typename T>
struct CompressorSaved {
  std::vector<T> k, g;    // [n, coff·d] (g includes ape)
  std::vector<T> pooled;  // [n_entries, d] before the norm
};

template <typename T>
int64_t compressor_entries(const CompressorDims& c, int64_t n) {
  return n / c.ratio;
}

namespace detail {
// Slot i of entry e: (token, channel offset) or token −1 when block −1 is missing (overlap, e = 0).
inline void compressor_slot(const CompressorDims& c, int64_t e, int i, int64_t* token, int64_t* col) {
  const int r = c.ratio;
  if (c.ratio == 4) {
    *token = i < r ? (e - 1) * r + i : e * r + (i - r);
    *col = i < r ? 0 : c.d;
  } else {
    *token = e * r + i;
    *col = 0;
  }
}

// Entry e, channel ch: each slot's flat index into k and g ([n, coff·d]; −1 where the slot is missing) and
// its softmax weight over g (0 where missing), normalised before use as the reference does. The backward
// recomputes them rather than storing them.
template <typename T>
void compressor_slot_weights(const CompressorDims& c, const T* g, int64_t e, int64_t ch, int64_t* at, T* w) {
  T mx = -INFINITY;
  for (int i = 0; i < c.slots(); ++i) {
    int64_t tok, col;
    compressor_slot(c, e, i, &tok, &col);
    at[i] = tok >= 0 ? tok * c.width() + col + ch : -1;
    if (at[i] >= 0) mx = std::max(mx, g[at[i]]);
  }
  T denom = 0;
  for (int i = 0; i < c.slots(); ++i) denom += w[i] = at[i] >= 0 ? std::exp(g[at[i]] - mx) : T(0);
  for (int i = 0; i < c.slots(); ++i) w[i] /= denom;
}
}  // namespace detail

template <typename T>
void compressor_forward(const CompressorDims& c, const CompressorParams<T>& p, const std::vector<float>& freqs,
                        const T* x /*[n, D]*/, int64_t n, T* entries /*[n/r, d]*/, CompressorSaved<T>& s) {
  const int64_t W = c.width(), d = c.d, n_e = compressor_entries<T>(c, n);
  s.k.resize(size_t(n * W));
  s.g.resize(size_t(n * W));
  s.pooled.resize(size_t(n_e * d));
  linear_forward(x, p.wkv.data(), n, c.dim, W, s.k.data());
  linear_forward(x, p.wgate.data(), n, c.dim, W, s.g.data());
  for (int64_t t = 0; t < n; ++t)
    for (int64_t ch = 0; ch < W; ++ch) s.g[size_t(t * W + ch)] += p.ape[size_t((t % c.ratio) * W + ch)];
  std::vector<int64_t> at(size_t(c.slots()));
  std::vector<T> w(size_t(c.slots()));
  for (int64_t e = 0; e < n_e; ++e) {
    for (int64_t ch = 0; ch < d; ++ch) {
      detail::compressor_slot_weights(c, s.g.data(), e, ch, at.data(), w.data());
      T acc = 0;
      for (int i = 0; i < c.slots(); ++i)
        if (at[size_t(i)] >= 0) acc += w[size_t(i)] * s.k[size_t(at[size_t(i)])];
      s.pooled[size_t(e * d + ch)] = acc;
    }
    rmsnorm_forward(s.pooled.data() + e * d, p.norm.data(), 1, d, T(c.norm_eps), entries + e * d);
    rope_rotate(entries + e * d + d - c.rope_dim, freqs, e * c.ratio, false);
  }
}

// dentries [n/r, d] → dx [n, D] (accumulated, may be null) and the parameter gradients.
template <typename T>
void compressor_backward(const CompressorDims& c, const CompressorParams<T>& p, const std::vector<float>& freqs,
                         const T* x, int64_t n, const CompressorSaved<T>& s, const T* dentries, T* dx,
                         CompressorParams<T>& grad) {
  const int64_t W = c.width(), d = c.d, n_e = compressor_entries<T>(c, n);
  std::vector<T> dk(size_t(n * W), T(0)), dg(size_t(n * W), T(0)), de(static_cast<size_t>(d)), dpooled(static_cast<size_t>(d)),
      w(size_t(c.slots()));
  std::vector<int64_t> at(size_t(c.slots()));
  for (int64_t e = 0; e < n_e; ++e) {
    std::copy_n(dentries + e * d, d, de.begin());
    rope_backward(de.data() + d - c.rope_dim, freqs, e * c.ratio, false);
    std::fill(dpooled.begin(), dpooled.end(), T(0));
    rmsnorm_backward(s.pooled.data() + e * d, p.norm.data(), 1, d, T(c.norm_eps), de.data(), dpooled.data(),
                     grad.norm.data());
    for (int64_t ch = 0; ch < d; ++ch) {
      // pooled = Σ w_i k_i with w = softmax(g): dk_i = w_i·dp, dg_i = w_i·(k_i − pooled)·dp.
      detail::compressor_slot_weights(c, s.g.data(), e, ch, at.data(), w.data());
      const T pooled = s.pooled[size_t(e * d + ch)], dp = dpooled[size_t(ch)];
      for (int i = 0; i < c.slots(); ++i) {
        if (at[size_t(i)] < 0) continue;
        const size_t a = size_t(at[size_t(i)]);
        dk[a] += w[size_t(i)] * dp;
        dg[a] += w[size_t(i)] * (s.k[a] - pooled) * dp;
      }
    }
  }
  for (int64_t t = 0; t < n; ++t)
    for (int64_t ch = 0; ch < W; ++ch) grad.ape[size_t((t % c.ratio) * W + ch)] += dg[size_t(t * W + ch)];
  linear_backward(x, p.wkv.data(), n, c.dim, W, dk.data(), dx, grad.wkv.data());
  linear_backward(x, p.wgate.data(), n, c.dim, W, dg.data(), dx, grad.wgate.data());
}

}  // namespace dsv4::train
