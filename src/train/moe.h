// MoE for training (model/moe.cc, v4-architecture.md §3.12), forward and backward:
//   l = x·gateᵀ,  s = sqrt(softplus(l))                                   [n, E]
//   ids = tid2eid[token] (hash layers) or topk(s + bias) (the bias only selects)
//   w_j = route_scale · s[ids_j] / Σ_i s[ids_i]
//   out = Σ_j w2_e(silu(min(g, L))·clamp(u, −L, L)·w_j),  g = w1_e(x), u = w3_e(x)   (e = ids_j)
//       + shared(x)  (same SwiGLU and clamp, no routing weight)
// The selection itself is discrete: its gradient flows only through the selected scores (w_j), never
// through which experts were chosen. A caller may freeze the routing (MoeRouting given to the forward),
// as the gradient checks do so that ±h perturbations cannot flip a top-k choice.
#pragma once

#include <string>
#include <vector>

#include "train/ops.h"

namespace dsv4::train {

struct MoeDims {
  int64_t dim = 0;        // D
  int n_experts = 0;      // E (routed)
  int top_k = 0;          // n_activated_experts
  int64_t inter = 0;      // moe_inter_dim (routed and shared)
  double route_scale = 1;
  double swiglu_limit = 0;
  bool hash = false;      // route by tid2eid (hash layers) instead of top-k
};

template <typename T>
struct ExpertParams {
  std::vector<T> w1, w2, w3;  // [I, D], [D, I], [I, D]
  void resize(const MoeDims& m) {
    w1.assign(size_t(m.inter * m.dim), T(0));
    w2.assign(size_t(m.dim * m.inter), T(0));
    w3.assign(size_t(m.inter * m.dim), T(0));
  }
  template <typename F>
  void for_each(const std::string& p, F&& f) {
    f(p + "w1.weight", w1);
    f(p + "w2.weight", w2);
    f(p + "w3.weight", w3);
  }
};

template <typename T>
struct MoeParams {
  std::vector<T> gate;                    // [E, D]
  std::vector<T> bias;                    // [E]: selection only, never a gradient (balance.h updates it)
  std::vector<ExpertParams<T>> experts;   // [E]
  ExpertParams<T> shared;
  void resize(const MoeDims& m) {
    gate.assign(size_t(m.n_experts * m.dim), T(0));
    bias.assign(m.hash ? 0 : size_t(m.n_experts), T(0));
    experts.assign(size_t(m.n_experts), {});
    for (auto& e : experts) e.resize(m);
    shared.resize(m);
  }
  // The trainable tensors (the bias is not one: it is updated by the balancing rule, not by gradients).
  template <typename F>
  void for_each(const std::string& p, F&& f) {
    f(p + "gate.weight", gate);
    for (size_t e = 0; e < experts.size(); ++e) experts[e].for_each(p + "experts." + std::to_string(e) + ".", f);
    shared.for_each(p + "shared_experts.", f);
  }
};

struct MoeRouting {
  std::vector<int32_t> ids;  // [n, k]
};

template <typename T>
struct MoeSaved {
  std::vector<T> logits, scores;  // [n, E]: l and s
  MoeRouting routing;
  std::vector<T> weights;         // [n, k]
  // per expert (routed 0..E−1, then the shared one at index E): the rows it serves and its activations
  std::vector<std::vector<int64_t>> rows;       // token of each row
  std::vector<std::vector<int32_t>> slot;       // j (position in the token's k picks) of each row
  std::vector<std::vector<T>> xe, g, u, a;      // [m, D], [m, I] ×3
};

template <typename T>
T softplus(T v) {
  return v > T(20) ? v : std::log1p(std::exp(v));  // torch: beta 1, threshold 20
}

// Top-k of (s + bias), descending, ties to the lower index (kernels/topk's order).
inline void select_topk(const double* biased, int E, int k, int32_t* ids) {
  std::vector<int32_t> order(static_cast<size_t>(E));
  for (int e = 0; e < E; ++e) order[size_t(e)] = e;
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
    return biased[a] > biased[b] || (biased[a] == biased[b] && a < b);
  });
  std::copy_n(order.begin(), k, ids);
}

// tokens: the token ids (hash routing); tid2eid [vocab, k] (hash layers); frozen: routing to reuse, or null.
template <typename T>
void moe_forward(const MoeDims& m, const MoeParams<T>& p, const T* x /*[n, D]*/, int64_t n, const int32_t* tokens,
                 const int32_t* tid2eid, const MoeRouting* frozen, T* out /*[n, D]*/, MoeSaved<T>& s) {
  const int E = m.n_experts, k = m.top_k;
  const int64_t D = m.dim, I = m.inter;
  s.logits.resize(size_t(n * E));
  s.scores.resize(size_t(n * E));
  linear_forward(x, p.gate.data(), n, D, E, s.logits.data());
  for (int64_t i = 0; i < n * E; ++i) s.scores[size_t(i)] = std::sqrt(softplus(s.logits[size_t(i)]));
  if (frozen) {
    s.routing = *frozen;
  } else {
    s.routing.ids.resize(size_t(n * k));
    std::vector<double> biased(static_cast<size_t>(E));
    for (int64_t t = 0; t < n; ++t) {
      if (m.hash) {
        std::copy_n(tid2eid + int64_t(tokens[t]) * k, k, s.routing.ids.begin() + t * k);
        continue;
      }
      for (int e = 0; e < E; ++e) biased[size_t(e)] = double(s.scores[size_t(t * E + e)] + p.bias[size_t(e)]);
      select_topk(biased.data(), E, k, s.routing.ids.data() + t * k);
    }
  }
  s.weights.resize(size_t(n * k));
  for (int64_t t = 0; t < n; ++t) {
    T sum = 0;
    for (int j = 0; j < k; ++j) sum += s.scores[size_t(t * E + s.routing.ids[size_t(t * k + j)])];
    for (int j = 0; j < k; ++j)
      s.weights[size_t(t * k + j)] = T(m.route_scale) * s.scores[size_t(t * E + s.routing.ids[size_t(t * k + j)])] / sum;
  }

  s.rows.assign(size_t(E + 1), {});
  s.slot.assign(size_t(E + 1), {});
  for (int64_t t = 0; t < n; ++t)
    for (int j = 0; j < k; ++j) {
      const int32_t e = s.routing.ids[size_t(t * k + j)];
      DSV4_CHECK(0 <= e && e < E);
      s.rows[size_t(e)].push_back(t);
      s.slot[size_t(e)].push_back(j);
    }
  for (int64_t t = 0; t < n; ++t) s.rows[size_t(E)].push_back(t);
  s.xe.assign(size_t(E + 1), {});
  s.g.assign(size_t(E + 1), {});
  s.u.assign(size_t(E + 1), {});
  s.a.assign(size_t(E + 1), {});
  std::fill(out, out + n * D, T(0));
  std::vector<T> ye, rw;
  for (int e = 0; e <= E; ++e) {
    const auto& rows = s.rows[size_t(e)];
    const int64_t mrows = int64_t(rows.size());
    if (!mrows) continue;
    const ExpertParams<T>& w = e < E ? p.experts[size_t(e)] : p.shared;
    auto& xe = s.xe[size_t(e)];
    xe.resize(size_t(mrows * D));
    rw.resize(static_cast<size_t>(mrows));
    for (int64_t i = 0; i < mrows; ++i) {
      std::copy_n(x + rows[size_t(i)] * D, D, xe.begin() + i * D);
      rw[size_t(i)] = e < E ? s.weights[size_t(rows[size_t(i)] * k + s.slot[size_t(e)][size_t(i)])] : T(1);
    }
    s.g[size_t(e)].resize(size_t(mrows * I));
    s.u[size_t(e)].resize(size_t(mrows * I));
    s.a[size_t(e)].resize(size_t(mrows * I));
    linear_forward(xe.data(), w.w1.data(), mrows, D, I, s.g[size_t(e)].data());
    linear_forward(xe.data(), w.w3.data(), mrows, D, I, s.u[size_t(e)].data());
    swiglu_forward(s.g[size_t(e)].data(), s.u[size_t(e)].data(), rw.data(), mrows, I, T(m.swiglu_limit),
                   s.a[size_t(e)].data());
    ye.resize(size_t(mrows * D));
    linear_forward(s.a[size_t(e)].data(), w.w2.data(), mrows, I, D, ye.data());
    for (int64_t i = 0; i < mrows; ++i)
      for (int64_t d = 0; d < D; ++d) out[rows[size_t(i)] * D + d] += ye[size_t(i * D + d)];
  }
}

template <typename T>
void moe_backward(const MoeDims& m, const MoeParams<T>& p, const T* x, int64_t n, const MoeSaved<T>& s,
                  const T* dout, T* dx, MoeParams<T>& grad,
                  const T* dscores = nullptr /*[n, E]: extra ∂L/∂s, e.g. the balance loss (balance.h)*/) {
  const int E = m.n_experts, k = m.top_k;
  const int64_t D = m.dim, I = m.inter;
  std::vector<T> dweights(size_t(n * k), T(0)), dye, da, dg, du, dxe, drw, rw;
  for (int e = 0; e <= E; ++e) {
    const auto& rows = s.rows[size_t(e)];
    const int64_t mrows = int64_t(rows.size());
    if (!mrows) continue;
    const ExpertParams<T>& w = e < E ? p.experts[size_t(e)] : p.shared;
    ExpertParams<T>& gw = e < E ? grad.experts[size_t(e)] : grad.shared;
    dye.resize(size_t(mrows * D));
    rw.resize(static_cast<size_t>(mrows));
    for (int64_t i = 0; i < mrows; ++i) {
      std::copy_n(dout + rows[size_t(i)] * D, D, dye.begin() + i * D);
      rw[size_t(i)] = e < E ? s.weights[size_t(rows[size_t(i)] * k + s.slot[size_t(e)][size_t(i)])] : T(1);
    }
    da.assign(size_t(mrows * I), T(0));
    linear_backward(s.a[size_t(e)].data(), w.w2.data(), mrows, I, D, dye.data(), da.data(), gw.w2.data());
    dg.assign(size_t(mrows * I), T(0));
    du.assign(size_t(mrows * I), T(0));
    drw.assign(size_t(mrows), T(0));
    swiglu_backward(s.g[size_t(e)].data(), s.u[size_t(e)].data(), rw.data(), mrows, I, T(m.swiglu_limit), da.data(),
                    dg.data(), du.data(), drw.data());
    dxe.assign(size_t(mrows * D), T(0));
    linear_backward(s.xe[size_t(e)].data(), w.w1.data(), mrows, D, I, dg.data(), dxe.data(), gw.w1.data());
    linear_backward(s.xe[size_t(e)].data(), w.w3.data(), mrows, D, I, du.data(), dxe.data(), gw.w3.data());
    for (int64_t i = 0; i < mrows; ++i) {
      if (dx)
        for (int64_t d = 0; d < D; ++d) dx[rows[size_t(i)] * D + d] += dxe[size_t(i * D + d)];
      if (e < E) dweights[size_t(rows[size_t(i)] * k + s.slot[size_t(e)][size_t(i)])] += drw[size_t(i)];
    }
  }
  // w_j = c·s_j/S (S = Σ selected s):  ds_i = (c/S)·(dw_i − Σ_j dw_j·s_j/S) for the selected i;
  // s = sqrt(softplus(l)):  dl = ds·σ(l)/(2s)  (softplus′ = 1 above torch's threshold 20).
  std::vector<T> ds(size_t(n * E), T(0)), dlogits(size_t(n * E), T(0));
  if (dscores) std::copy_n(dscores, n * E, ds.begin());
  for (int64_t t = 0; t < n; ++t) {
    T sum = 0, dot = 0;
    for (int j = 0; j < k; ++j) {
      const T sj = s.scores[size_t(t * E + s.routing.ids[size_t(t * k + j)])];
      sum += sj;
      dot += dweights[size_t(t * k + j)] * sj;
    }
    for (int j = 0; j < k; ++j)
      ds[size_t(t * E + s.routing.ids[size_t(t * k + j)])] +=
          T(m.route_scale) / sum * (dweights[size_t(t * k + j)] - dot / sum);
  }
  for (int64_t i = 0; i < n * E; ++i) {
    if (ds[size_t(i)] == T(0)) continue;
    const T l = s.logits[size_t(i)], sc = s.scores[size_t(i)];
    const T dsp = l > T(20) ? T(1) : sigmoid(l);
    dlogits[size_t(i)] = ds[size_t(i)] * dsp / (T(2) * sc);
  }
  linear_backward(x, p.gate.data(), n, D, E, dlogits.data(), dx, grad.gate.data());
}

}  // namespace dsv4::train
