// Attention for training (model/attention.cc, v4-architecture.md §3.4–3.11), forward and backward, over a
// whole sequence from position 0, for the three layer kinds:
//   qr = q_norm(x·wq_aᵀ);  q = RoPE(rmsnorm_per_head(qr·wq_bᵀ));  kv = RoPE(kv_norm(x·wkvᵀ))
//   keys = [kv rows; compressed entries (ratio 4 or 128, compressor.h)]
//   per query t: window rows max(0, t−W+1)..t, then compressed entries (HCA: every complete one,
//   c < (t+1)/r; CSA: the indexer's picks among them), one softmax with a per-head sink (no value)
//   o = inverse-RoPE(Σ p·kv) by the query position;  out = wo_b(concat_g(o_g·wo_a_gᵀ))
// K = V = the 512-d entry (MQA on the latent).
//
// THE INDEXER IS FROZEN. Its top-k selection is discrete and has no gradient; V4 trains it separately
// (a short indexer warm-up before sparse attention starts at the 64K stage; dense attention before). Here
// the CSA picks are an input (`AttentionInputs::picks`): the caller may pass the frozen indexer's picks,
// and when it passes none every eligible compressed entry is attended — exactly what top-k selects
// whenever floor((t+1)/4) ≤ index_topk, i.e. for every sequence up to 4·index_topk tokens, and V4's dense
// phase otherwise. The indexer's own weights get no gradient and are not updated.
// Training runs in plain FP32 by default. `fp8_kv` adds the model's FP8 rounding of the non-RoPE KV dims
// (64-wide blocks, after RoPE, on window rows and compressed entries alike, as model/attention.cc and
// model/compressor.cc do) to the forward, with a straight-through (identity) backward; the gradient
// checks run without it, the engine parity test with it.
#pragma once

#include <string>
#include <vector>

#include "kernels/quantize.h"
#include "train/compressor.h"
#include "train/ops.h"

namespace dsv4::train {

struct AttentionDims {
  int64_t dim = 0;       // D
  int n_heads = 0;       // H
  int64_t head_dim = 0;  // hd
  int rope_dim = 0;      // rd: the last rd dims of q, kv and entries are rotated
  int64_t q_lora_rank = 0;
  int o_groups = 0;      // G
  int64_t o_lora_rank = 0;  // R
  int window = 0;        // sliding window incl. the current token
  int ratio = 0;         // 0 (SWA), 4 (CSA), 128 (HCA)
  double norm_eps = 1e-6;
  bool fp8_kv = false;   // forward-only FP8 simulation of the KV nope dims (straight-through backward)
  int64_t group_width() const { return int64_t(n_heads) * head_dim / o_groups; }
  CompressorDims compressor() const { return {dim, head_dim, rope_dim, ratio, norm_eps}; }
};

template <typename T>
struct AttentionParams {
  std::vector<T> wq_a;     // [q_lora, D]
  std::vector<T> q_norm;   // [q_lora]
  std::vector<T> wq_b;     // [H·hd, q_lora]
  std::vector<T> wkv;      // [hd, D]
  std::vector<T> kv_norm;  // [hd]
  std::vector<T> wo_a;     // [G·R, H·hd/G]
  std::vector<T> wo_b;     // [D, G·R]
  std::vector<T> sink;     // [H]
  CompressorParams<T> compressor;  // empty for ratio 0
  void resize(const AttentionDims& a) {  // zero-filled, shaped for a
    const int64_t Hd = a.n_heads * a.head_dim, GR = a.o_groups * a.o_lora_rank;
    wq_a.assign(size_t(a.q_lora_rank * a.dim), T(0));
    q_norm.assign(size_t(a.q_lora_rank), T(0));
    wq_b.assign(size_t(Hd * a.q_lora_rank), T(0));
    wkv.assign(size_t(a.head_dim * a.dim), T(0));
    kv_norm.assign(size_t(a.head_dim), T(0));
    wo_a.assign(size_t(GR * a.group_width()), T(0));
    wo_b.assign(size_t(a.dim * GR), T(0));
    sink.assign(size_t(a.n_heads), T(0));
    compressor = {};
    if (a.ratio) compressor.resize(a.compressor());
  }
  template <typename F>
  void for_each(const std::string& p, F&& f) {
    f(p + "attn_sink", sink);
    f(p + "wq_a.weight", wq_a);
    f(p + "q_norm.weight", q_norm);
    f(p + "wq_b.weight", wq_b);
    f(p + "wkv.weight", wkv);
    f(p + "kv_norm.weight", kv_norm);
    f(p + "wo_a.weight", wo_a);
    f(p + "wo_b.weight", wo_b);
    if (!compressor.wkv.empty()) compressor.for_each(p + "compressor.", f);
  }
};

// Per query t, the compressed entries it attends to (CSA); empty = every eligible entry.
struct AttentionInputs {
  std::vector<std::vector<int32_t>> picks;
};

// ---- core: sparse attention with sink over index lists ----------------------------------------------

struct IndexLists {
  std::vector<int64_t> offsets;  // [n + 1]
  std::vector<int64_t> keys;     // row of `keys` per listed entry
};

// The rows of `keys` that query t lists, gathered into one [L, hd] matrix: the key is shared by all H
// heads, so each query's scores, output and gradients become small GEMMs over it.
template <typename T>
int64_t gather_listed_keys(const T* keys, int64_t hd, const IndexLists& lists, int64_t t, std::vector<T>& out) {
  const int64_t b = lists.offsets[size_t(t)], L = lists.offsets[size_t(t + 1)] - b;
  out.resize(size_t(std::max<int64_t>(1, L) * hd));
  for (int64_t j = 0; j < L; ++j) std::copy_n(keys + lists.keys[size_t(b + j)] * hd, hd, out.data() + j * hd);
  return L;
}

// o[t, h] = Σ_j p_j·K_j, p = softmax over {z_j = scale·q[t,h]·K_j} ∪ {sink_h}; probs saved per (t, h, j)
// followed by the sink's probability, in the order of the lists: for query t an [H, L + 1] block.
template <typename T>
void sparse_attention_forward(const T* q /*[n, H, hd]*/, int64_t n, int H, int64_t hd, const T* keys,
                              const IndexLists& lists, const T* sink, T scale, T* o /*[n, H, hd]*/,
                              std::vector<T>& probs) {
  probs.resize(size_t(lists.offsets[size_t(n)] * H + n * H));
  std::vector<T> kt;
  for (int64_t t = 0, at = 0; t < n; ++t) {
    const int64_t L = gather_listed_keys(keys, hd, lists, t, kt);
    T* pt = probs.data() + at;  // [H, L + 1]
    gemm(false, true, H, L, hd, scale, q + t * H * hd, hd, kt.data(), hd, T(0), pt, L + 1);
    for (int h = 0; h < H; ++h) {
      T* p = pt + h * (L + 1);
      T mx = sink[h];
      for (int64_t j = 0; j < L; ++j) mx = std::max(mx, p[j]);
      T denom = p[L] = std::exp(sink[h] - mx);
      for (int64_t j = 0; j < L; ++j) denom += p[j] = std::exp(p[j] - mx);
      for (int64_t j = 0; j <= L; ++j) p[j] /= denom;
    }
    gemm(false, false, H, hd, L, T(1), pt, L + 1, kt.data(), hd, T(0), o + t * H * hd, hd);
    at += H * (L + 1);
  }
}

// dp_j = ⟨do, K_j⟩, Σ = Σ_j p_j·dp_j (the sink has no value: dp_sink = 0); dz_j = p_j·(dp_j − Σ);
// dsink −= p_sink·Σ;  dq += scale·Σ_j dz_j·K_j;  dK_j += scale·dz_j·q + p_j·do.
template <typename T>
void sparse_attention_backward(const T* q, int64_t n, int H, int64_t hd, const T* keys, const IndexLists& lists,
                               T scale, const std::vector<T>& probs, const T* dout, T* dq, T* dkeys, T* dsink) {
  std::vector<T> kt, dz, dkt;
  for (int64_t t = 0, at = 0; t < n; ++t) {
    const int64_t L = gather_listed_keys(keys, hd, lists, t, kt);
    const T* pt = probs.data() + at;
    const T *qt = q + t * H * hd, *dot = dout + t * H * hd;
    dz.resize(size_t(std::max<int64_t>(1, H * L)));
    gemm(false, true, H, L, hd, T(1), dot, hd, kt.data(), hd, T(0), dz.data(), L);  // dp
    for (int h = 0; h < H; ++h) {
      const T* p = pt + h * (L + 1);
      T* d = dz.data() + h * L;
      T sum = 0;
      for (int64_t j = 0; j < L; ++j) sum += p[j] * d[j];
      dsink[h] -= p[L] * sum;
      for (int64_t j = 0; j < L; ++j) d[j] = p[j] * (d[j] - sum) * scale;
    }
    gemm(false, false, H, hd, L, T(1), dz.data(), L, kt.data(), hd, T(1), dq + t * H * hd, hd);
    dkt.resize(kt.size());
    gemm(true, false, L, hd, H, T(1), dz.data(), L, qt, hd, T(0), dkt.data(), hd);
    gemm(true, false, L, hd, H, T(1), pt, L + 1, dot, hd, T(1), dkt.data(), hd);
    const int64_t b = lists.offsets[size_t(t)];
    for (int64_t j = 0; j < L; ++j) {
      T* dk = dkeys + lists.keys[size_t(b + j)] * hd;
      const T* src = dkt.data() + j * hd;
      for (int64_t i = 0; i < hd; ++i) dk[i] += src[i];
    }
    at += H * (L + 1);
  }
}

// ---- grouped low-rank output projection: u[g] = o[g]·wo_a[g]ᵀ, out = u·wo_bᵀ -------------------------

template <typename T>
void output_projection_forward(const AttentionDims& a, const T* wo_a, const T* wo_b, const T* o /*[n, H·hd]*/,
                               int64_t n, T* u /*[n, G·R]*/, T* out /*[n, D]*/) {
  const int64_t G = a.o_groups, R = a.o_lora_rank, gw = a.group_width(), Hd = a.n_heads * a.head_dim;
  for (int64_t g = 0; g < G; ++g)
    gemm(false, true, n, R, gw, T(1), o + g * gw, Hd, wo_a + g * R * gw, gw, T(0), u + g * R, G * R);
  linear_forward(u, wo_b, n, G * R, a.dim, out);
}

template <typename T>
void output_projection_backward(const AttentionDims& a, const T* wo_a, const T* wo_b, const T* o, int64_t n,
                                const T* u, const T* dout, T* do_, T* dwo_a, T* dwo_b) {
  const int64_t G = a.o_groups, R = a.o_lora_rank, gw = a.group_width(), Hd = a.n_heads * a.head_dim;
  std::vector<T> du(size_t(n * G * R), T(0));
  linear_backward(u, wo_b, n, G * R, a.dim, dout, du.data(), dwo_b);
  for (int64_t g = 0; g < G; ++g) {
    gemm(false, false, n, gw, R, T(1), du.data() + g * R, G * R, wo_a + g * R * gw, gw, T(1), do_ + g * gw, Hd);
    gemm(true, false, R, gw, n, T(1), du.data() + g * R, G * R, o + g * gw, Hd, T(1), dwo_a + g * R * gw, gw);
  }
}

// ---- the whole attention sub-block ------------------------------------------------------------------

// e4m3 rounding with power-of-two scales per 64-wide block (kernels/quantize.h), in place on `rows` rows.
template <typename T>
void fp8_kv_simulate(T* x, int64_t rows, int64_t hd, int64_t nope) {
  std::vector<float> f(static_cast<size_t>(nope));
  for (int64_t r = 0; r < rows; ++r) {
    T* row = x + r * hd;
    std::copy_n(row, nope, f.begin());
    fp8_simulate(f.data(), nope, 64);
    for (int64_t i = 0; i < nope; ++i) row[i] = T(f[size_t(i)]);
  }
}

template <typename T>
struct AttentionSaved {
  std::vector<T> qa, qr, qb, q;   // [n, q_lora] ×2, [n, H·hd] ×2 (q: normed and roped)
  std::vector<T> kva, keys;       // [n, hd]; [n + entries, hd]: roped kv rows, then compressed entries
  CompressorSaved<T> comp;
  IndexLists lists;
  std::vector<T> probs;
  std::vector<T> o, u;            // o: after the inverse RoPE [n, H·hd]; u [n, G·R]
};

inline IndexLists build_index_lists(const AttentionDims& a, int64_t n, const AttentionInputs& in) {
  IndexLists l;
  l.offsets.push_back(0);
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t p = std::max<int64_t>(0, t - a.window + 1); p <= t; ++p) l.keys.push_back(p);
    if (a.ratio) {
      const int64_t eligible = (t + 1) / a.ratio;
      if (a.ratio == 4 && !in.picks.empty()) {
        for (int32_t c : in.picks[size_t(t)]) {
          DSV4_CHECK(0 <= c && c < eligible);
          l.keys.push_back(n + c);
        }
      } else {
        for (int64_t c = 0; c < eligible; ++c) l.keys.push_back(n + c);
      }
    }
    l.offsets.push_back(int64_t(l.keys.size()));
  }
  return l;
}

template <typename T>
void attention_forward(const AttentionDims& a, const AttentionParams<T>& p, const std::vector<float>& freqs,
                       const T* x /*[n, D]*/, int64_t n, const AttentionInputs& in, T* out /*[n, D]*/,
                       AttentionSaved<T>& s) {
  const int H = a.n_heads;
  const int64_t hd = a.head_dim, rd = a.rope_dim, ql = a.q_lora_rank, Hd = H * hd;
  const T eps = T(a.norm_eps);
  s.qa.resize(size_t(n * ql));
  s.qr.resize(size_t(n * ql));
  s.qb.resize(size_t(n * Hd));
  s.q.resize(size_t(n * Hd));
  linear_forward(x, p.wq_a.data(), n, a.dim, ql, s.qa.data());
  rmsnorm_forward(s.qa.data(), p.q_norm.data(), n, ql, eps, s.qr.data());
  linear_forward(s.qr.data(), p.wq_b.data(), n, ql, Hd, s.qb.data());
  rmsnorm_forward(s.qb.data(), static_cast<const T*>(nullptr), n * H, hd, eps, s.q.data());
  for (int64_t t = 0; t < n; ++t)
    for (int h = 0; h < H; ++h) rope_rotate(s.q.data() + (t * H + h) * hd + hd - rd, freqs, t, false);

  const int64_t n_e = a.ratio ? n / a.ratio : 0;
  s.kva.resize(size_t(n * hd));
  s.keys.resize(size_t((n + n_e) * hd));
  linear_forward(x, p.wkv.data(), n, a.dim, hd, s.kva.data());
  rmsnorm_forward(s.kva.data(), p.kv_norm.data(), n, hd, eps, s.keys.data());
  for (int64_t t = 0; t < n; ++t) rope_rotate(s.keys.data() + t * hd + hd - rd, freqs, t, false);
  if (a.ratio) compressor_forward(a.compressor(), p.compressor, freqs, x, n, s.keys.data() + n * hd, s.comp);
  if (a.fp8_kv) fp8_kv_simulate(s.keys.data(), n + n_e, hd, hd - rd);

  s.lists = build_index_lists(a, n, in);
  s.o.resize(size_t(n * Hd));
  sparse_attention_forward(s.q.data(), n, H, hd, s.keys.data(), s.lists, p.sink.data(),
                           T(1) / std::sqrt(T(hd)), s.o.data(), s.probs);
  for (int64_t t = 0; t < n; ++t)
    for (int h = 0; h < H; ++h) rope_rotate(s.o.data() + (t * H + h) * hd + hd - rd, freqs, t, true);
  s.u.resize(size_t(n * a.o_groups * a.o_lora_rank));
  output_projection_forward(a, p.wo_a.data(), p.wo_b.data(), s.o.data(), n, s.u.data(), out);
}

template <typename T>
void attention_backward(const AttentionDims& a, const AttentionParams<T>& p, const std::vector<float>& freqs,
                        const T* x, int64_t n, const AttentionSaved<T>& s, const T* dout, T* dx,
                        AttentionParams<T>& g) {
  const int H = a.n_heads;
  const int64_t hd = a.head_dim, rd = a.rope_dim, ql = a.q_lora_rank, Hd = H * hd;
  const T eps = T(a.norm_eps);
  const int64_t n_e = a.ratio ? n / a.ratio : 0;

  std::vector<T> d_o(size_t(n * Hd), T(0));
  output_projection_backward(a, p.wo_a.data(), p.wo_b.data(), s.o.data(), n, s.u.data(), dout, d_o.data(),
                             g.wo_a.data(), g.wo_b.data());
  for (int64_t t = 0; t < n; ++t)
    for (int h = 0; h < H; ++h) rope_backward(d_o.data() + (t * H + h) * hd + hd - rd, freqs, t, true);

  std::vector<T> dq(size_t(n * Hd), T(0)), dkeys(size_t((n + n_e) * hd), T(0));
  sparse_attention_backward(s.q.data(), n, H, hd, s.keys.data(), s.lists, T(1) / std::sqrt(T(hd)), s.probs,
                            d_o.data(), dq.data(), dkeys.data(), g.sink.data());

  if (a.ratio)
    compressor_backward(a.compressor(), p.compressor, freqs, x, n, s.comp, dkeys.data() + n * hd, dx, g.compressor);
  for (int64_t t = 0; t < n; ++t) rope_backward(dkeys.data() + t * hd + hd - rd, freqs, t, false);
  std::vector<T> dkva(size_t(n * hd), T(0));
  rmsnorm_backward(s.kva.data(), p.kv_norm.data(), n, hd, eps, dkeys.data(), dkva.data(), g.kv_norm.data());
  linear_backward(x, p.wkv.data(), n, a.dim, hd, dkva.data(), dx, g.wkv.data());

  for (int64_t t = 0; t < n; ++t)
    for (int h = 0; h < H; ++h) rope_backward(dq.data() + (t * H + h) * hd + hd - rd, freqs, t, false);
  std::vector<T> dqb(size_t(n * Hd), T(0)), dqr(size_t(n * ql), T(0)), dqa(size_t(n * ql), T(0));
  rmsnorm_backward(s.qb.data(), static_cast<const T*>(nullptr), n * H, hd, eps, dq.data(), dqb.data(),
                   static_cast<T*>(nullptr));
  linear_backward(s.qr.data(), p.wq_b.data(), n, ql, Hd, dqb.data(), dqr.data(), g.wq_b.data());
  rmsnorm_backward(s.qa.data(), p.q_norm.data(), n, ql, eps, dqr.data(), dqa.data(), g.q_norm.data());
  linear_backward(x, p.wq_a.data(), n, a.dim, ql, dqa.data(), dx, g.wq_a.data());
}

}  // namespace dsv4::train
