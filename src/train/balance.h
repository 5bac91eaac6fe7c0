// MoE load balancing for training (training.md §3.3; V3 report eqs. 16–20, V4 §2.1 / §4.2.2):
//   * auxiliary-loss-free: after each step, b_i += γ·sign(mean_load − load_i) over the whole batch (V4:
//     γ = 0.001). The bias only shifts top-k selection (moe.h) and never receives a gradient.
//   * sequence-wise balance loss, per sequence of T tokens and per top-k (non-hash) MoE layer:
//       L = α·Σ_i f_i·P_i,  f_i = E/(K·T)·#{t : i ∈ TopK(s_t)}  (top-K of the raw scores, not s + b),
//       P_i = (1/T)·Σ_t s_{i,t}/Σ_j s_{j,t}                      (V4: α = 1e-4)
//     f is a count and carries no gradient; P does, through the scores s = sqrt(softplus(l)).
//     Hash-routed layers have fixed routing and take no balance loss.
//   * MaxVio = max_i load_i / mean_load − 1, the balance metric to log.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "train/moe.h"

namespace dsv4::train {

// Tokens routed to each expert: ids [n, k] → load [E].
inline std::vector<int64_t> expert_load(const std::vector<int32_t>& ids, int n_experts) {
  std::vector<int64_t> load(static_cast<size_t>(n_experts), 0);
  for (int32_t e : ids) ++load[size_t(e)];
  return load;
}

inline double max_violation(const std::vector<int64_t>& load) {
  int64_t total = 0, mx = 0;
  for (int64_t l : load) {
    total += l;
    mx = std::max(mx, l);
  }
  if (total == 0) return 0.0;
  const double mean = double(total) / double(load.size());
  return double(mx) / mean - 1.0;
}

// b_i += speed·sign(mean_load − load_i): overloaded experts lose `speed`, underloaded ones gain it.
template <typename T>
void aux_free_bias_update(T* bias, const std::vector<int64_t>& load, T speed) {
  int64_t total = 0;
  for (int64_t l : load) total += l;
  const double mean = double(total) / double(load.size());
  for (size_t i = 0; i < load.size(); ++i) {
    const double diff = mean - double(load[i]);
    bias[i] += diff > 0 ? speed : diff < 0 ? -speed : T(0);
  }
}

// f_i of one sequence: scores [T, E] (raw s), top-K by s alone.
template <typename T>
std::vector<T> balance_frequencies(const T* scores, int64_t n_tokens, int E, int K) {
  std::vector<T> f(size_t(E), T(0));
  std::vector<double> s(static_cast<size_t>(E));
  std::vector<int32_t> ids(static_cast<size_t>(K));
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int e = 0; e < E; ++e) s[size_t(e)] = double(scores[t * E + e]);
    select_topk(s.data(), E, K, ids.data());
    for (int32_t e : ids) f[size_t(e)] += T(E) / (T(K) * T(n_tokens));
  }
  return f;
}

template <typename T>
T balance_loss_forward(const T* scores /*[T, E]*/, int64_t n_tokens, int E, int K, T alpha) {
  const std::vector<T> f = balance_frequencies(scores, n_tokens, E, K);
  T loss = 0;
  for (int64_t t = 0; t < n_tokens; ++t) {
    T sum = 0;
    for (int e = 0; e < E; ++e) sum += scores[t * E + e];
    for (int e = 0; e < E; ++e) loss += f[size_t(e)] * scores[t * E + e] / sum;
  }
  return alpha * loss / T(n_tokens);
}

// dscores += ∂L/∂s: with s′ = s/S_t and ∂L/∂s′_i = α·f_i/T,  ∂L/∂s_j = (∂L/∂s′_j − Σ_i ∂L/∂s′_i·s′_i)/S_t.
template <typename T>
void balance_loss_backward(const T* scores, int64_t n_tokens, int E, int K, T alpha, T* dscores) {
  const std::vector<T> f = balance_frequencies(scores, n_tokens, E, K);
  for (int64_t t = 0; t < n_tokens; ++t) {
    T sum = 0, dot = 0;
    for (int e = 0; e < E; ++e) sum += scores[t * E + e];
    for (int e = 0; e < E; ++e) dot += alpha * f[size_t(e)] / T(n_tokens) * scores[t * E + e] / sum;
    for (int e = 0; e < E; ++e) dscores[t * E + e] += (alpha * f[size_t(e)] / T(n_tokens) - dot) / sum;
  }
}

}  // namespace dsv4::train
