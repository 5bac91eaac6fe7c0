// One transformer block for training (model/block.cc), forward and backward:
//   a, post, C = hc_pre(X; hc_attn);  X1 = hc_post(Attention(attn_norm(a)), X, post, C)
//   f, post, C = hc_pre(X1; hc_ffn);  X2 = hc_post(MoE(ffn_norm(f)), X1, post, C)
// X holds the hc residual streams of each token ([n, hc·D]). The layer kind (SWA / CSA / HCA) is the
// attention's ratio; hash routing is the MoE's. With balance_alpha > 0 a top-k MoE also adds the
// sequence-wise balance loss (balance.h) over the n tokens — one sequence — to the block's loss; its
// gradient enters in block_backward whatever the upstream gradient is.
#pragma once

#include <string>
#include <vector>

#include "train/attention.h"
#include "train/balance.h"
#include "train/hc.h"
#include "train/moe.h"

namespace dsv4::train {

template <typename T>
struct BlockDims {
  HcDims<T> hc;
  AttentionDims attn;
  MoeDims moe;
  double balance_alpha = 0;  // sequence-wise balance loss weight (V4: 1e-4); hash layers take none
  bool has_balance_loss() const { return balance_alpha > 0 && !moe.hash; }
};

template <typename T>
struct HcSiteParams {
  std::vector<T> fn, base, scale;  // [(2+hc)·hc, hc·D], [(2+hc)·hc], [3]
};

template <typename T>
struct BlockParams {
  std::vector<T> attn_norm, ffn_norm;  // [D]
  HcSiteParams<T> hc_attn, hc_ffn;
  AttentionParams<T> attn;
  MoeParams<T> ffn;
  void resize(const BlockDims<T>& b) {
    attn_norm.assign(size_t(b.hc.dim), T(0));
    ffn_norm.assign(size_t(b.hc.dim), T(0));
    for (HcSiteParams<T>* s : {&hc_attn, &hc_ffn}) {
      s->fn.assign(size_t(b.hc.mix() * b.hc.hc_dim()), T(0));
      s->base.assign(size_t(b.hc.mix()), T(0));
      s->scale.assign(3, T(0));
    }
    attn.resize(b.attn);
    ffn.resize(b.moe);
  }
  template <typename F>
  void for_each(const std::string& p, F&& f) {  // checkpoint names (tensor_list.cc)
    f(p + "attn_norm.weight", attn_norm);
    f(p + "ffn_norm.weight", ffn_norm);
    f(p + "hc_attn_fn", hc_attn.fn);
    f(p + "hc_attn_base", hc_attn.base);
    f(p + "hc_attn_scale", hc_attn.scale);
    f(p + "hc_ffn_fn", hc_ffn.fn);
    f(p + "hc_ffn_base", hc_ffn.base);
    f(p + "hc_ffn_scale", hc_ffn.scale);
    attn.for_each(p + "attn.", f);
    ffn.for_each(p + "ffn.", f);
  }
};

// What a block needs besides its weights: token ids and tid2eid for hash routing, optional frozen
// routing (gradient checks), the CSA picks of the frozen indexer (attention.h).
struct BlockInputs {
  const int32_t* tokens = nullptr;   // [n]
  const int32_t* tid2eid = nullptr;  // [vocab, top_k], hash layers only
  const MoeRouting* frozen_routing = nullptr;
  AttentionInputs attention;
};

template <typename T>
struct BlockSaved {
  std::vector<T> x0, y1, h1, a, x1, y2, h2, f;
  HcPreSaved<T> hc1, hc2;
  AttentionSaved<T> attn;
  MoeSaved<T> moe;
  T balance_loss = 0;  // α·Σ f·P of this block's router over the sequence (0 without)
};

// x [n, hc·D] in place: block input in, block output out.
template <typename T>
void block_forward(const BlockDims<T>& b, const BlockParams<T>& p, const std::vector<float>& freqs, T* x,
                   int64_t n, const BlockInputs& in, BlockSaved<T>& s) {
  const int64_t D = b.hc.dim, hd = b.hc.hc_dim();
  const T eps = T(b.attn.norm_eps);
  s.x0.assign(x, x + n * hd);
  s.y1.resize(size_t(n * D));
  s.h1.resize(size_t(n * D));
  s.a.resize(size_t(n * D));
  s.x1.resize(size_t(n * hd));
  hc_pre_forward(b.hc, p.hc_attn.fn.data(), p.hc_attn.base.data(), p.hc_attn.scale.data(), s.x0.data(), n,
                 s.y1.data(), s.hc1);
  rmsnorm_forward(s.y1.data(), p.attn_norm.data(), n, D, eps, s.h1.data());
  attention_forward(b.attn, p.attn, freqs, s.h1.data(), n, in.attention, s.a.data(), s.attn);
  hc_post_forward(b.hc, s.a.data(), s.hc1.post.data(), s.hc1.comb.data(), s.x0.data(), n, s.x1.data());

  s.y2.resize(size_t(n * D));
  s.h2.resize(size_t(n * D));
  s.f.resize(size_t(n * D));
  hc_pre_forward(b.hc, p.hc_ffn.fn.data(), p.hc_ffn.base.data(), p.hc_ffn.scale.data(), s.x1.data(), n,
                 s.y2.data(), s.hc2);
  rmsnorm_forward(s.y2.data(), p.ffn_norm.data(), n, D, eps, s.h2.data());
  moe_forward(b.moe, p.ffn, s.h2.data(), n, in.tokens, in.tid2eid, in.frozen_routing, s.f.data(), s.moe);
  s.balance_loss = b.has_balance_loss()
                       ? balance_loss_forward(s.moe.scores.data(), n, b.moe.n_experts, b.moe.top_k, T(b.balance_alpha))
                       : T(0);
  hc_post_forward(b.hc, s.f.data(), s.hc2.post.data(), s.hc2.comb.data(), s.x1.data(), n, x);
}

// dx [n, hc·D] in place: the output's gradient in, the input's gradient out. Parameter gradients add
// into g.
template <typename T>
void block_backward(const BlockDims<T>& b, const BlockParams<T>& p, const std::vector<float>& freqs, int64_t n,
                    const BlockSaved<T>& s, T* dx, BlockParams<T>& g) {
  const int hc = b.hc.hc;
  const int64_t D = b.hc.dim, hd = b.hc.hc_dim();
  const T eps = T(b.attn.norm_eps);
  std::vector<T> dout(dx, dx + n * hd), dx1(size_t(n * hd), T(0)), dpost(size_t(n * hc)),
      dcomb(size_t(n * hc * hc)), dbranch(size_t(n * D), T(0)), dh(size_t(n * D), T(0)), dy(size_t(n * D), T(0));

  hc_post_backward(b.hc, s.f.data(), s.hc2.post.data(), s.hc2.comb.data(), s.x1.data(), n, dout.data(),
                   dbranch.data(), dpost.data(), dcomb.data(), dx1.data());
  std::vector<T> dscores;
  if (b.has_balance_loss()) {
    dscores.assign(size_t(n * b.moe.n_experts), T(0));
    balance_loss_backward(s.moe.scores.data(), n, b.moe.n_experts, b.moe.top_k, T(b.balance_alpha), dscores.data());
  }
  moe_backward(b.moe, p.ffn, s.h2.data(), n, s.moe, dbranch.data(), dh.data(), g.ffn,
               dscores.empty() ? nullptr : dscores.data());
  rmsnorm_backward(s.y2.data(), p.ffn_norm.data(), n, D, eps, dh.data(), dy.data(), g.ffn_norm.data());
  hc_pre_backward(b.hc, p.hc_ffn.fn.data(), p.hc_ffn.base.data(), p.hc_ffn.scale.data(), s.x1.data(), n, s.hc2,
                  dy.data(), dpost.data(), dcomb.data(), dx1.data(), g.hc_ffn.fn.data(), g.hc_ffn.base.data(),
                  g.hc_ffn.scale.data());

  std::fill(dx, dx + n * hd, T(0));
  std::fill(dbranch.begin(), dbranch.end(), T(0));
  std::fill(dh.begin(), dh.end(), T(0));
  std::fill(dy.begin(), dy.end(), T(0));
  hc_post_backward(b.hc, s.a.data(), s.hc1.post.data(), s.hc1.comb.data(), s.x0.data(), n, dx1.data(),
                   dbranch.data(), dpost.data(), dcomb.data(), dx);
  attention_backward(b.attn, p.attn, freqs, s.h1.data(), n, s.attn, dbranch.data(), dh.data(), g.attn);
  rmsnorm_backward(s.y1.data(), p.attn_norm.data(), n, D, eps, dh.data(), dy.data(), g.attn_norm.data());
  hc_pre_backward(b.hc, p.hc_attn.fn.data(), p.hc_attn.base.data(), p.hc_attn.scale.data(), s.x0.data(), n,
                  s.hc1, dy.data(), dpost.data(), dcomb.data(), dx, g.hc_attn.fn.data(), g.hc_attn.base.data(),
                  g.hc_attn.scale.data());
}

}  // namespace dsv4::train
