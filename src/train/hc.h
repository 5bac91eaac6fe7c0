// mHC (manifold-constrained hyper-connections) for training: hc_pre, hc_post and hc_head, forward and
// backward, templated on the scalar type. The forward is model/hc.cc's (v4-architecture.md §3.3):
//   r = rsqrt(mean(x̂²) + norm_eps) over the hc·D values of a token's streams;  m = (fn·x̂)·r
//   pre_j  = σ(m_j·scale0 + base_j) + hc_eps          post_j = 2σ(m_{hc+j}·scale1 + base_{hc+j})
//   C      = Sinkhorn(m_{2hc+·}·scale2 + base_{2hc+·})  (row softmax + eps, col, then iters−1 × row, col)
//   y      = Σ_j pre_j·X_j;     hc_post: X'_k = post_k·f + Σ_j C[j][k]·X_j
// The backward differentiates exactly through every Sinkhorn normalisation (training.md §2.4: unrolled,
// as DeepSeek's kernel does, not the implicit gradient at convergence); the intermediate matrices are
// recomputed from the saved mixes rather than stored (2·iters·hc² values per token).
#pragma once

#include <vector>

#include "train/ops.h"

namespace dsv4::train {

template <typename T>
struct HcDims {
  int hc = 4;          // hc_mult: streams
  int64_t dim = 0;     // D
  int iters = 20;      // hc_sinkhorn_iters
  T hc_eps = T(1e-6);
  T norm_eps = T(1e-6);
  int64_t hc_dim() const { return hc * dim; }
  int mix() const { return (2 + hc) * hc; }
};

// ---- Sinkhorn on one hc×hc matrix --------------------------------------------------------------------

// states receives the 2·iters matrices M_0 = softmax_row(A) + eps, M_i = col- (i odd) or row- (i even)
// normalised M_{i−1}; the result is M_{2·iters−1}.
template <typename T>
void sinkhorn_forward(const T* a, int n, int iters, T eps, std::vector<T>& states) {
  const int nn = n * n;
  states.assign(size_t(2 * iters * nn), T(0));
  T* m0 = states.data();
  for (int j = 0; j < n; ++j) {
    T mx = a[j * n];
    for (int k = 1; k < n; ++k) mx = std::max(mx, a[j * n + k]);
    T s = 0;
    for (int k = 0; k < n; ++k) s += m0[j * n + k] = std::exp(a[j * n + k] - mx);
    for (int k = 0; k < n; ++k) m0[j * n + k] = m0[j * n + k] / s + eps;
  }
  for (int i = 1; i < 2 * iters; ++i) {
    const T* x = states.data() + (i - 1) * nn;
    T* y = states.data() + i * nn;
    const bool col = i % 2 == 1;
    for (int p = 0; p < n; ++p) {  // p = the column (col) or row being normalised
      T s = 0;
      for (int q = 0; q < n; ++q) s += x[col ? q * n + p : p * n + q];
      for (int q = 0; q < n; ++q) {
        const int e = col ? q * n + p : p * n + q;
        y[e] = x[e] / (s + eps);
      }
    }
  }
}

// da += ∂L/∂A given dc = ∂L/∂C and the states of sinkhorn_forward.
//   normalisation Y = X/(s + eps):  dX = (dY − Σ_line dY⊙Y) / (s + eps) along each row/column
//   softmax + eps (P = M_0 − eps):  dA = P ⊙ (dM_0 − Σ_row dM_0⊙P)
template <typename T>
void sinkhorn_backward(const std::vector<T>& states, int n, int iters, T eps, const T* dc, T* da) {
  const int nn = n * n;
  std::vector<T> g(dc, dc + nn), gx(static_cast<size_t>(nn));
  for (int i = 2 * iters - 1; i >= 1; --i) {
    const T* x = states.data() + (i - 1) * nn;
    const T* y = states.data() + i * nn;
    const bool col = i % 2 == 1;
    for (int p = 0; p < n; ++p) {
      T s = 0, dot = 0;
      for (int q = 0; q < n; ++q) {
        const int e = col ? q * n + p : p * n + q;
        s += x[e];
        dot += g[size_t(e)] * y[e];
      }
      for (int q = 0; q < n; ++q) {
        const int e = col ? q * n + p : p * n + q;
        gx[size_t(e)] = (g[size_t(e)] - dot) / (s + eps);
      }
    }
    g.swap(gx);
  }
  const T* m0 = states.data();
  for (int j = 0; j < n; ++j) {
    T dot = 0;
    for (int k = 0; k < n; ++k) dot += g[size_t(j * n + k)] * (m0[j * n + k] - eps);
    for (int k = 0; k < n; ++k) da[j * n + k] += (m0[j * n + k] - eps) * (g[size_t(j * n + k)] - dot);
  }
}

// ---- the mixes m = (fn·x̂)·r shared by hc_pre and hc_head ----------------------------------------------

template <typename T>
void hc_mixes_forward(const HcDims<T>& d, const T* fn /*[M, hc·D]*/, int M, const T* x /*[n, hc·D]*/,
                      int64_t n, T* mix /*[n, M]*/) {
  linear_forward(x, fn, n, d.hc_dim(), M, mix);
  for (int64_t t = 0; t < n; ++t) {
    const T r = rms_inverse(x + t * d.hc_dim(), d.hc_dim(), d.norm_eps);
    for (int j = 0; j < M; ++j) mix[t * M + j] *= r;
  }
}

// Given dm = ∂L/∂m: dz = r·dm, dfn += dzᵀ·x̂, dx̂ += fnᵀ·dz − (⟨dm, z⟩·r³/(hc·D))·x̂ (⟨dm, z⟩ = ⟨dm, m⟩/r).
template <typename T>
void hc_mixes_backward(const HcDims<T>& d, const T* fn, int M, const T* x, int64_t n, const T* mix,
                       const T* dmix, T* dx, T* dfn) {
  const int64_t hd = d.hc_dim();
  std::vector<T> dz(size_t(n * M));
  for (int64_t t = 0; t < n; ++t) {
    const T* xt = x + t * hd;
    const T r = rms_inverse(xt, hd, d.norm_eps);
    T dot = 0;  // ⟨dm, z⟩
    for (int j = 0; j < M; ++j) {
      dz[size_t(t * M + j)] = r * dmix[t * M + j];
      dot += dmix[t * M + j] * mix[t * M + j] / r;
    }
    if (dx) {
      const T c = dot * r * r * r / T(hd);
      for (int64_t i = 0; i < hd; ++i) dx[t * hd + i] -= c * xt[i];
    }
  }
  linear_backward(x, fn, n, hd, M, dz.data(), dx, dfn);
}

// ---- hc_pre -----------------------------------------------------------------------------------------

template <typename T>
struct HcPreSaved {
  std::vector<T> mix;   // [n, M]
  std::vector<T> pre;   // [n, hc]
  std::vector<T> post;  // [n, hc]
  std::vector<T> comb;  // [n, hc, hc]: C[j][k]
};

template <typename T>
void weighted_stream_sum(const HcDims<T>& d, const T* pre, const T* xt, T* yt) {
  for (int64_t i = 0; i < d.dim; ++i) yt[i] = 0;
  for (int j = 0; j < d.hc; ++j)
    for (int64_t i = 0; i < d.dim; ++i) yt[i] += pre[j] * xt[j * d.dim + i];
}

// y [n, D]: the branch input; s receives post and comb for hc_post and what the backward needs.
template <typename T>
void hc_pre_forward(const HcDims<T>& d, const T* fn /*[M, hc·D]*/, const T* base /*[M]*/, const T* scale /*[3]*/,
                    const T* x /*[n, hc·D]*/, int64_t n, T* y /*[n, D]*/, HcPreSaved<T>& s) {
  const int hc = d.hc, M = d.mix();
  s.mix.resize(size_t(n * M));
  s.pre.resize(size_t(n * hc));
  s.post.resize(size_t(n * hc));
  s.comb.resize(size_t(n * hc * hc));
  hc_mixes_forward(d, fn, M, x, n, s.mix.data());
  std::vector<T> a(size_t(hc * hc)), states;
  for (int64_t t = 0; t < n; ++t) {
    const T* m = s.mix.data() + t * M;
    for (int j = 0; j < hc; ++j) {
      s.pre[size_t(t * hc + j)] = sigmoid(m[j] * scale[0] + base[j]) + d.hc_eps;
      s.post[size_t(t * hc + j)] = T(2) * sigmoid(m[hc + j] * scale[1] + base[hc + j]);
    }
    for (int jk = 0; jk < hc * hc; ++jk) a[size_t(jk)] = m[2 * hc + jk] * scale[2] + base[2 * hc + jk];
    sinkhorn_forward(a.data(), hc, d.iters, d.hc_eps, states);
    std::copy_n(states.end() - hc * hc, hc * hc, s.comb.begin() + t * hc * hc);
    weighted_stream_sum(d, s.pre.data() + t * hc, x + t * d.hc_dim(), y + t * d.dim);
  }
}

// dy [n, D] is the branch input's gradient; dpost [n, hc] and dcomb [n, hc, hc] come from hc_post_backward.
template <typename T>
void hc_pre_backward(const HcDims<T>& d, const T* fn, const T* base, const T* scale, const T* x, int64_t n,
                     const HcPreSaved<T>& s, const T* dy, const T* dpost, const T* dcomb, T* dx, T* dfn,
                     T* dbase, T* dscale) {
  const int hc = d.hc, M = d.mix();
  const int64_t D = d.dim, hd = d.hc_dim();
  std::vector<T> dmix(size_t(n * M), T(0)), a(size_t(hc * hc)), da(size_t(hc * hc)), states;
  for (int64_t t = 0; t < n; ++t) {
    const T* m = s.mix.data() + t * M;
    const T* xt = x + t * hd;
    const T* dyt = dy + t * D;
    T* dm = dmix.data() + t * M;
    for (int j = 0; j < hc; ++j) {
      T dpre = 0;
      for (int64_t i = 0; i < D; ++i) dpre += dyt[i] * xt[j * D + i];
      if (dx)
        for (int64_t i = 0; i < D; ++i) dx[t * hd + j * D + i] += s.pre[size_t(t * hc + j)] * dyt[i];
      const T sg = s.pre[size_t(t * hc + j)] - d.hc_eps;
      const T dl = dpre * sg * (T(1) - sg);
      dm[j] += dl * scale[0];
      dscale[0] += dl * m[j];
      dbase[j] += dl;
      const T sp = s.post[size_t(t * hc + j)] / T(2);
      const T dlp = dpost[t * hc + j] * T(2) * sp * (T(1) - sp);
      dm[hc + j] += dlp * scale[1];
      dscale[1] += dlp * m[hc + j];
      dbase[hc + j] += dlp;
    }
    for (int jk = 0; jk < hc * hc; ++jk) a[size_t(jk)] = m[2 * hc + jk] * scale[2] + base[2 * hc + jk];
    sinkhorn_forward(a.data(), hc, d.iters, d.hc_eps, states);
    std::fill(da.begin(), da.end(), T(0));
    sinkhorn_backward(states, hc, d.iters, d.hc_eps, dcomb + t * hc * hc, da.data());
    for (int jk = 0; jk < hc * hc; ++jk) {
      dm[2 * hc + jk] += da[size_t(jk)] * scale[2];
      dscale[2] += da[size_t(jk)] * m[2 * hc + jk];
      dbase[2 * hc + jk] += da[size_t(jk)];
    }
  }
  hc_mixes_backward(d, fn, M, x, n, s.mix.data(), dmix.data(), dx, dfn);
}

// ---- hc_post: X'_k = post_k·f + Σ_j C[j][k]·X_j (out must not alias x) -------------------------------

template <typename T>
void hc_post_forward(const HcDims<T>& d, const T* f /*[n, D]*/, const T* post /*[n, hc]*/,
                     const T* comb /*[n, hc, hc]*/, const T* x /*[n, hc·D]*/, int64_t n, T* out /*[n, hc·D]*/) {
  const int hc = d.hc;
  const int64_t D = d.dim, hd = d.hc_dim();
  for (int64_t t = 0; t < n; ++t)
    for (int k = 0; k < hc; ++k) {
      T* o = out + t * hd + k * D;
      for (int64_t i = 0; i < D; ++i) o[i] = post[t * hc + k] * f[t * D + i];
      for (int j = 0; j < hc; ++j) {
        const T c = comb[t * hc * hc + j * hc + k];
        for (int64_t i = 0; i < D; ++i) o[i] += c * x[t * hd + j * D + i];
      }
    }
}

// df += Σ_k post_k·dX'_k;  dpost_k = ⟨dX'_k, f⟩;  dC[j][k] = ⟨dX'_k, X_j⟩;  dX_j += Σ_k C[j][k]·dX'_k.
// dpost and dcomb are written (not accumulated): they feed hc_pre_backward of the same site.
template <typename T>
void hc_post_backward(const HcDims<T>& d, const T* f, const T* post, const T* comb, const T* x, int64_t n,
                      const T* dout, T* df, T* dpost, T* dcomb, T* dx) {
  const int hc = d.hc;
  const int64_t D = d.dim, hd = d.hc_dim();
  for (int64_t t = 0; t < n; ++t)
    for (int k = 0; k < hc; ++k) {
      const T* dk = dout + t * hd + k * D;
      T dp = 0;
      for (int64_t i = 0; i < D; ++i) {
        dp += dk[i] * f[t * D + i];
        df[t * D + i] += post[t * hc + k] * dk[i];
      }
      dpost[t * hc + k] = dp;
      for (int j = 0; j < hc; ++j) {
        const T* xj = x + t * hd + j * D;
        const T c = comb[t * hc * hc + j * hc + k];
        T dc = 0;
        for (int64_t i = 0; i < D; ++i) {
          dc += dk[i] * xj[i];
          dx[t * hd + j * D + i] += c * dk[i];
        }
        dcomb[t * hc * hc + j * hc + k] = dc;
      }
    }
}

// ---- hc_head: y = Σ_j (σ(m_j·scale + base_j) + hc_eps)·X_j, m = (fn·x̂)·r (no Sinkhorn, no factor 2) ----

template <typename T>
void hc_head_forward(const HcDims<T>& d, const T* fn /*[hc, hc·D]*/, const T* base /*[hc]*/, const T* scale /*[1]*/,
                     const T* x, int64_t n, T* y /*[n, D]*/, std::vector<T>& mix /*[n, hc] saved*/) {
  const int hc = d.hc;
  mix.resize(size_t(n * hc));
  hc_mixes_forward(d, fn, hc, x, n, mix.data());
  std::vector<T> pre(static_cast<size_t>(hc));
  for (int64_t t = 0; t < n; ++t) {
    for (int j = 0; j < hc; ++j) pre[size_t(j)] = sigmoid(mix[size_t(t * hc + j)] * scale[0] + base[j]) + d.hc_eps;
    weighted_stream_sum(d, pre.data(), x + t * d.hc_dim(), y + t * d.dim);
  }
}

template <typename T>
void hc_head_backward(const HcDims<T>& d, const T* fn, const T* base, const T* scale, const T* x, int64_t n,
                      const std::vector<T>& mix, const T* dy, T* dx, T* dfn, T* dbase, T* dscale) {
  const int hc = d.hc;
  const int64_t D = d.dim, hd = d.hc_dim();
  std::vector<T> dmix(size_t(n * hc), T(0));
  for (int64_t t = 0; t < n; ++t)
    for (int j = 0; j < hc; ++j) {
      const T m = mix[size_t(t * hc + j)];
      const T sg = sigmoid(m * scale[0] + base[j]);
      T dpre = 0;
      for (int64_t i = 0; i < D; ++i) {
        dpre += dy[t * D + i] * x[t * hd + j * D + i];
        if (dx) dx[t * hd + j * D + i] += (sg + d.hc_eps) * dy[t * D + i];
      }
      const T dl = dpre * sg * (T(1) - sg);
      dmix[size_t(t * hc + j)] = dl * scale[0];
      dscale[0] += dl * m;
      dbase[j] += dl;
    }
  hc_mixes_backward(d, fn, hc, x, n, mix.data(), dmix.data(), dx, dfn);
}

}  // namespace dsv4::train
