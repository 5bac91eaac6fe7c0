// The multi-token-prediction block and its loss for training (model.cc mtp_logits, v4-architecture.md
// §3.14, training.md §3.4), forward and backward:
//   e = enorm(embed[next_ids]);  H = hnorm(X_main) per stream   (X_main: the last main block's streams)
//   X = e_proj(e) broadcast to the hc streams + h_proj(H);  X = Block(X)  (ratio 0, top-k MoE)
//   logits = head(norm(hc_head_mtp(X)));   loss = λ · CE(logits, targets)
// Pairing (V3 convention, unspecified by the V4 reference): position t combines X_main[t] with the
// embedding of token t+1 and predicts token t+2; the caller passes next_ids[t] = token t+1 and
// targets[t] = token t+2 (−1 where the sequence ends). Embedding and head are shared with the main model,
// so their gradients add into the main model's.
#pragma once

#include <string>
#include <vector>

#include "train/block.h"

namespace dsv4::train {

template <typename T>
struct MtpParams {
  std::vector<T> e_proj, h_proj;              // [D, D]
  std::vector<T> enorm, hnorm, norm;          // [D]
  std::vector<T> hc_head_fn, hc_head_base, hc_head_scale;  // [hc, hc·D], [hc], [1]
  BlockParams<T> block;
  void resize(const BlockDims<T>& b) {
    const int64_t D = b.hc.dim;
    e_proj.assign(size_t(D * D), T(0));
    h_proj.assign(size_t(D * D), T(0));
    enorm.assign(size_t(D), T(0));
    hnorm.assign(size_t(D), T(0));
    norm.assign(size_t(D), T(0));
    hc_head_fn.assign(size_t(b.hc.hc * b.hc.hc_dim()), T(0));
    hc_head_base.assign(size_t(b.hc.hc), T(0));
    hc_head_scale.assign(1, T(0));
    block.resize(b);
  }
  template <typename F>
  void for_each(const std::string& p, F&& f) {
    block.for_each(p, f);
    f(p + "e_proj.weight", e_proj);
    f(p + "h_proj.weight", h_proj);
    f(p + "enorm.weight", enorm);
    f(p + "hnorm.weight", hnorm);
    f(p + "norm.weight", norm);
    f(p + "hc_head_fn", hc_head_fn);
    f(p + "hc_head_base", hc_head_base);
    f(p + "hc_head_scale", hc_head_scale);
  }
};

template <typename T>
struct MtpSaved {
  std::vector<T> e, en, ep, hn, x, y, mix, yn, logits;
  BlockSaved<T> block;
};

// Returns λ·CE + the block's balance loss (if any). x_main [n, hc·D]; embed, head [V, D].
template <typename T>
T mtp_forward(const BlockDims<T>& b, const MtpParams<T>& p, const T* embed, const T* head, int64_t V,
              const std::vector<float>& freqs, const T* x_main, const int32_t* next_ids, const int32_t* targets,
              int64_t n, T lambda, const BlockInputs& in, MtpSaved<T>& s) {
  const int hc = b.hc.hc;
  const int64_t D = b.hc.dim, hd = b.hc.hc_dim();
  const T eps = T(b.attn.norm_eps);
  s.e.resize(size_t(n * D));
  s.en.resize(size_t(n * D));
  s.ep.resize(size_t(n * D));
  embedding_forward(embed, next_ids, n, D, s.e.data());
  rmsnorm_forward(s.e.data(), p.enorm.data(), n, D, eps, s.en.data());
  linear_forward(s.en.data(), p.e_proj.data(), n, D, D, s.ep.data());
  s.hn.resize(size_t(n * hd));
  s.x.resize(size_t(n * hd));
  rmsnorm_forward(x_main, p.hnorm.data(), n * hc, D, eps, s.hn.data());
  linear_forward(s.hn.data(), p.h_proj.data(), n * hc, D, D, s.x.data());
  for (int64_t t = 0; t < n; ++t)
    for (int k = 0; k < hc; ++k)
      for (int64_t d = 0; d < D; ++d) s.x[size_t(t * hd + k * D + d)] += s.ep[size_t(t * D + d)];
  std::vector<T> x = s.x;
  block_forward(b, p.block, freqs, x.data(), n, in, s.block);
  s.y.resize(size_t(n * D));
  s.yn.resize(size_t(n * D));
  s.logits.resize(size_t(n * V));
  hc_head_forward(b.hc, p.hc_head_fn.data(), p.hc_head_base.data(), p.hc_head_scale.data(), x.data(), n, s.y.data(),
                  s.mix);
  s.x.swap(x);  // keep the block's output for the head's backward; its input lives in s.block.x0
  rmsnorm_forward(s.y.data(), p.norm.data(), n, D, eps, s.yn.data());
  linear_forward(s.yn.data(), head, n, D, V, s.logits.data());
  return lambda * cross_entropy_forward(s.logits.data(), targets, n, V) + s.block.balance_loss;
}

template <typename T>
void mtp_backward(const BlockDims<T>& b, const MtpParams<T>& p, const T* embed, const T* head, int64_t V,
                  const std::vector<float>& freqs, const T* x_main, const int32_t* next_ids,
                  const int32_t* targets, int64_t n, T lambda, const MtpSaved<T>& s, T* dx_main, T* dembed,
                  T* dhead, MtpParams<T>& g) {
  const int hc = b.hc.hc;
  const int64_t D = b.hc.dim, hd = b.hc.hc_dim();
  const T eps = T(b.attn.norm_eps);
  (void)embed;
  std::vector<T> dlogits(size_t(n * V), T(0)), dyn(size_t(n * D), T(0)), dy(size_t(n * D), T(0)),
      dx(size_t(n * hd), T(0));
  cross_entropy_backward(s.logits.data(), targets, n, V, lambda, dlogits.data());
  linear_backward(s.yn.data(), head, n, D, V, dlogits.data(), dyn.data(), dhead);
  rmsnorm_backward(s.y.data(), p.norm.data(), n, D, eps, dyn.data(), dy.data(), g.norm.data());
  hc_head_backward(b.hc, p.hc_head_fn.data(), p.hc_head_base.data(), p.hc_head_scale.data(), s.x.data(), n, s.mix,
                   dy.data(), dx.data(), g.hc_head_fn.data(), g.hc_head_base.data(), g.hc_head_scale.data());
  block_backward(b, p.block, freqs, n, s.block, dx.data(), g.block);
  std::vector<T> dep(size_t(n * D), T(0)), den(size_t(n * D), T(0)), de(size_t(n * D), T(0)),
      dhn(size_t(n * hd), T(0));
  for (int64_t t = 0; t < n; ++t)
    for (int k = 0; k < hc; ++k)
      for (int64_t d = 0; d < D; ++d) dep[size_t(t * D + d)] += dx[size_t(t * hd + k * D + d)];
  linear_backward(s.hn.data(), p.h_proj.data(), n * hc, D, D, dx.data(), dhn.data(), g.h_proj.data());
  rmsnorm_backward(x_main, p.hnorm.data(), n * hc, D, eps, dhn.data(), dx_main, g.hnorm.data());
  linear_backward(s.en.data(), p.e_proj.data(), n, D, D, dep.data(), den.data(), g.e_proj.data());
  rmsnorm_backward(s.e.data(), p.enorm.data(), n, D, eps, den.data(), de.data(), g.enorm.data());
  embedding_backward(next_ids, n, D, de.data(), dembed);
}

}  // namespace dsv4::train
