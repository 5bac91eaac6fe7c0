// The whole DeepSeek-V4 model for training (model/model.cc), forward and backward over one sequence:
//   x = embed[ids] copied into hc streams → blocks (ratio and hash routing per layer) → hc_head → norm →
//   head → CE(next token);  + λ·MTP loss per MTP block on the last block's streams (mtp.h)
//   + the sequence-wise balance loss of every top-k MoE (main and MTP blocks) when balance_alpha > 0.
// Parameters carry the checkpoint's names (tensor_list.cc) so param_groups.h assigns their optimizers;
// the frozen indexer's tensors, the selection biases and tid2eid are not among them (see attention.h,
// balance.h).
#pragma once

#include <string>
#include <vector>

#include "kernels/rope.h"
#include "model/config.h"
#include "train/mtp.h"

namespace dsv4::train {

template <typename T>
struct ModelDims {
  int64_t vocab = 0;
  int n_layers = 0, n_mtp = 0, n_hash_layers = 0;
  std::vector<int> ratios;  // n_layers + n_mtp entries
  BlockDims<T> block;       // shared shapes; ratio and hash are set per layer by layer()
  T mtp_weight = T(0.3);    // λ (V4: 0.3, then 0.1 once the LR decays)
  double balance_alpha = 0; // sequence-wise balance loss weight per top-k MoE layer (V4: 1e-4)
  std::vector<float> rope_swa, rope_compressed;  // frequency tables for ratio-0 and compressed layers

  BlockDims<T> layer(int l) const {
    BlockDims<T> b = block;
    b.balance_alpha = balance_alpha;
    b.attn.ratio = ratios[size_t(l)];
    b.moe.hash = l < n_hash_layers;
    return b;
  }
  const std::vector<float>& rope(int l) const { return ratios[size_t(l)] ? rope_compressed : rope_swa; }
};

template <typename T>
ModelDims<T> model_dims(const ModelConfig& c) {
  ModelDims<T> m;
  m.vocab = c.vocab_size;
  m.n_layers = c.n_layers;
  m.n_mtp = c.n_mtp_layers;
  m.n_hash_layers = c.n_hash_layers;
  m.ratios = c.compress_ratios;
  HcDims<T>& hc = m.block.hc;
  hc.hc = c.hc_mult;
  hc.dim = c.dim;
  hc.iters = c.hc_sinkhorn_iters;
  hc.hc_eps = T(c.hc_eps);
  hc.norm_eps = T(c.norm_eps);
  AttentionDims& a = m.block.attn;
  a = {c.dim, c.n_heads, c.head_dim, c.rope_head_dim, c.q_lora_rank, c.o_groups, c.o_lora_rank,
       c.window_size, 0, double(c.norm_eps)};
  MoeDims& e = m.block.moe;
  e.dim = c.dim;
  e.n_experts = c.n_routed_experts;
  e.top_k = c.n_activated_experts;
  e.inter = c.moe_inter_dim;
  e.route_scale = c.route_scale;
  e.swiglu_limit = c.swiglu_limit;
  m.rope_swa = rope_frequencies({c.rope_head_dim, c.rope_theta, 0, 1, c.beta_fast, c.beta_slow});
  m.rope_compressed = rope_frequencies(
      {c.rope_head_dim, c.compress_rope_theta, c.original_seq_len, c.rope_factor, c.beta_fast, c.beta_slow});
  return m;
}

template <typename T>
struct ModelParams {
  std::vector<T> embed, head;  // [V, D]
  std::vector<T> norm;         // [D]
  std::vector<T> hc_head_fn, hc_head_base, hc_head_scale;  // [hc, hc·D], [hc], [1]
  std::vector<BlockParams<T>> layers;
  std::vector<MtpParams<T>> mtp;
  std::vector<std::vector<int32_t>> tid2eid;  // [vocab, top_k] per hash layer: a table, not a parameter

  void resize(const ModelDims<T>& m) {
    const int64_t D = m.block.hc.dim, hc = m.block.hc.hc;
    embed.assign(size_t(m.vocab * D), T(0));
    head.assign(size_t(m.vocab * D), T(0));
    norm.assign(size_t(D), T(0));
    hc_head_fn.assign(size_t(hc * m.block.hc.hc_dim()), T(0));
    hc_head_base.assign(size_t(hc), T(0));
    hc_head_scale.assign(1, T(0));
    layers.assign(size_t(m.n_layers), {});
    for (int l = 0; l < m.n_layers; ++l) layers[size_t(l)].resize(m.layer(l));
    mtp.assign(size_t(m.n_mtp), {});
    for (int k = 0; k < m.n_mtp; ++k) mtp[size_t(k)].resize(m.layer(m.n_layers + k));
    tid2eid.assign(size_t(std::min(m.n_hash_layers, m.n_layers)),
                   std::vector<int32_t>(size_t(m.vocab * m.block.moe.top_k), 0));
  }
  template <typename F>
  void for_each(const std::string& p, F&& f) {
    f(p + "embed.weight", embed);
    f(p + "head.weight", head);
    f(p + "norm.weight", norm);
    f(p + "hc_head_fn", hc_head_fn);
    f(p + "hc_head_base", hc_head_base);
    f(p + "hc_head_scale", hc_head_scale);
    for (size_t l = 0; l < layers.size(); ++l) layers[l].for_each(p + "layers." + std::to_string(l) + ".", f);
    for (size_t k = 0; k < mtp.size(); ++k) mtp[k].for_each(p + "mtp." + std::to_string(k) + ".", f);
  }
};

// Per-layer inputs that are not weights: frozen routing (gradient checks) and the CSA picks of the frozen
// indexer, indexed by layer id (main layers, then MTP blocks); empty vectors = none.
struct ModelInputs {
  std::vector<MoeRouting> frozen_routing;
  std::vector<AttentionInputs> attention;
};

template <typename T>
struct ModelSaved {
  std::vector<BlockSaved<T>> blocks;
  std::vector<T> x;  // the last block's streams [n, hc·D]
  std::vector<T> y, mix, yn, logits;
  std::vector<MtpSaved<T>> mtp;
  std::vector<int32_t> mtp_next, mtp_targets;  // [n]
};

// ids [n]; targets [n] (the next token, −1 to ignore). Returns CE + Σ λ·MTP CE.
template <typename T>
T model_forward(const ModelDims<T>& m, const ModelParams<T>& p, const int32_t* ids, const int32_t* targets,
                int64_t n, const ModelInputs& in, ModelSaved<T>& s) {
  const int hc = m.block.hc.hc;
  const int64_t D = m.block.hc.dim, hd = m.block.hc.hc_dim();
  const T eps = T(m.block.attn.norm_eps);
  s.x.resize(size_t(n * hd));
  for (int64_t t = 0; t < n; ++t)
    for (int k = 0; k < hc; ++k) std::copy_n(p.embed.begin() + int64_t(ids[t]) * D, D, s.x.begin() + t * hd + k * D);
  s.blocks.resize(size_t(m.n_layers));
  auto block_inputs = [&](int l) {
    BlockInputs b;
    b.tokens = ids;
    if (l < m.n_hash_layers && l < m.n_layers) b.tid2eid = p.tid2eid[size_t(l)].data();
    if (size_t(l) < in.frozen_routing.size() && !in.frozen_routing[size_t(l)].ids.empty())
      b.frozen_routing = &in.frozen_routing[size_t(l)];
    if (size_t(l) < in.attention.size()) b.attention = in.attention[size_t(l)];
    return b;
  };
  for (int l = 0; l < m.n_layers; ++l)
    block_forward(m.layer(l), p.layers[size_t(l)], m.rope(l), s.x.data(), n, block_inputs(l), s.blocks[size_t(l)]);

  s.y.resize(size_t(n * D));
  s.yn.resize(size_t(n * D));
  s.logits.resize(size_t(n * m.vocab));
  hc_head_forward(m.block.hc, p.hc_head_fn.data(), p.hc_head_base.data(), p.hc_head_scale.data(), s.x.data(), n,
                  s.y.data(), s.mix);
  rmsnorm_forward(s.y.data(), p.norm.data(), n, D, eps, s.yn.data());
  linear_forward(s.yn.data(), p.head.data(), n, D, m.vocab, s.logits.data());
  T loss = cross_entropy_forward(s.logits.data(), targets, n, m.vocab);
  for (const BlockSaved<T>& b : s.blocks) loss += b.balance_loss;

  // MTP: position t reads token t+1 (= targets[t]) and predicts token t+2 (= targets[t+1]).
  s.mtp_next.resize(size_t(n));
  s.mtp_targets.resize(size_t(n));
  for (int64_t t = 0; t < n; ++t) {
    s.mtp_next[size_t(t)] = targets[t] >= 0 ? targets[t] : 0;
    s.mtp_targets[size_t(t)] = targets[t] >= 0 && t + 1 < n ? targets[t + 1] : -1;
  }
  s.mtp.resize(size_t(m.n_mtp));
  for (int k = 0; k < m.n_mtp; ++k) {
    const int l = m.n_layers + k;
    BlockInputs b = block_inputs(l);
    b.tokens = s.mtp_next.data();
    loss += mtp_forward(m.layer(l), p.mtp[size_t(k)], p.embed.data(), p.head.data(), m.vocab, m.rope(l), s.x.data(),
                        s.mtp_next.data(), s.mtp_targets.data(), n, m.mtp_weight, b, s.mtp[size_t(k)]);
  }
  return loss;
}

// Gradients add into g (zero it once per step).
template <typename T>
void model_backward(const ModelDims<T>& m, const ModelParams<T>& p, const int32_t* ids, const int32_t* targets,
                    int64_t n, const ModelSaved<T>& s, ModelParams<T>& g) {
  const int hc = m.block.hc.hc;
  const int64_t D = m.block.hc.dim, hd = m.block.hc.hc_dim();
  const T eps = T(m.block.attn.norm_eps);
  std::vector<T> dlogits(size_t(n * m.vocab), T(0)), dyn(size_t(n * D), T(0)), dy(size_t(n * D), T(0)),
      dx(size_t(n * hd), T(0));
  cross_entropy_backward(s.logits.data(), targets, n, m.vocab, T(1), dlogits.data());
  linear_backward(s.yn.data(), p.head.data(), n, D, m.vocab, dlogits.data(), dyn.data(), g.head.data());
  rmsnorm_backward(s.y.data(), p.norm.data(), n, D, eps, dyn.data(), dy.data(), g.norm.data());
  hc_head_backward(m.block.hc, p.hc_head_fn.data(), p.hc_head_base.data(), p.hc_head_scale.data(), s.x.data(), n,
                   s.mix, dy.data(), dx.data(), g.hc_head_fn.data(), g.hc_head_base.data(), g.hc_head_scale.data());
  for (int k = 0; k < m.n_mtp; ++k) {
    const int l = m.n_layers + k;
    mtp_backward(m.layer(l), p.mtp[size_t(k)], p.embed.data(), p.head.data(), m.vocab, m.rope(l), s.x.data(),
                 s.mtp_next.data(), s.mtp_targets.data(), n, m.mtp_weight, s.mtp[size_t(k)], dx.data(),
                 g.embed.data(), g.head.data(), g.mtp[size_t(k)]);
  }
  for (int l = m.n_layers - 1; l >= 0; --l)
    block_backward(m.layer(l), p.layers[size_t(l)], m.rope(l), n, s.blocks[size_t(l)], dx.data(), g.layers[size_t(l)]);
  for (int64_t t = 0; t < n; ++t)
    for (int k = 0; k < hc; ++k)
      for (int64_t d = 0; d < D; ++d) g.embed[size_t(int64_t(ids[t]) * D + d)] += dx[size_t(t * hd + k * D + d)];
}

// ---- aux-loss-free balancing over a batch (balance.h) --------------------------------------------------

// Tokens per expert of every MoE layer (main layers, then MTP blocks) summed over a batch of sequences:
// the statistics to log (max_violation) and the input of update_router_biases. Hash layers: empty.
template <typename T>
std::vector<std::vector<int64_t>> router_loads(const ModelDims<T>& m, const std::vector<const ModelSaved<T>*>& batch) {
  std::vector<std::vector<int64_t>> loads(size_t(m.n_layers + m.n_mtp));
  for (int l = 0; l < m.n_layers + m.n_mtp; ++l) {
    if (m.layer(l).moe.hash) continue;
    loads[size_t(l)].assign(size_t(m.block.moe.n_experts), 0);
    for (const ModelSaved<T>* s : batch) {
      const MoeSaved<T>& moe = l < m.n_layers ? s->blocks[size_t(l)].moe : s->mtp[size_t(l - m.n_layers)].block.moe;
      for (int32_t e : moe.routing.ids) ++loads[size_t(l)][size_t(e)];
    }
  }
  return loads;
}

// b_i += speed·sign(mean_load − load_i) for every top-k layer (V4: speed 0.001), once per step.
template <typename T>
void update_router_biases(const ModelDims<T>& m, ModelParams<T>& p, const std::vector<std::vector<int64_t>>& loads,
                          T speed) {
  for (int l = 0; l < m.n_layers + m.n_mtp; ++l) {
    if (loads[size_t(l)].empty()) continue;
    MoeParams<T>& ffn = l < m.n_layers ? p.layers[size_t(l)].ffn : p.mtp[size_t(l - m.n_layers)].block.ffn;
    aux_free_bias_update(ffn.bias.data(), loads[size_t(l)], speed);
  }
}

}  // namespace dsv4::train
