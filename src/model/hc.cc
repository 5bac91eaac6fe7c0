#include "model/hc.h"

#include <cmath>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/matmul.h"
#include "kernels/rmsnorm.h"
#include "kernels/sinkhorn.h"

namespace dsv4 {

namespace {
float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }

// mixes[t] = (x_t · fnᵀ) · rsqrt(mean(x_t²) + eps), x_t the flattened streams of token t.
float* hc_mixes(const ModelConfig& c, const WeightMatrix& fn, const float* x, int64_t n, Arena& arena) {
  float* mixes = arena.alloc<float>(size_t(n * fn.rows));
  matmul(fn, x, n, mixes);
  default_thread_pool().parallel_for(n, 16, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const float r = rms_inverse(x + t * c.hc_dim(), c.hc_dim(), c.norm_eps);
      for (int64_t j = 0; j < fn.rows; ++j) mixes[t * fn.rows + j] *= r;
    }
  });
  return mixes;
}

void weighted_stream_sum(const ModelConfig& c, const float* pre, const float* xt, float* yt) {
  for (int d = 0; d < c.dim; ++d) yt[d] = 0.0f;
  for (int j = 0; j < c.hc_mult; ++j) {
    const float* xj = xt + j * c.dim;
    for (int d = 0; d < c.dim; ++d) yt[d] += pre[j] * xj[d];
  }
}
}  // namespace

void hc_pre(const ModelConfig& c, const HcWeights& w, const float* x, int64_t n, float* y, float* post,
            float* comb, Arena& arena) {
  const int hc = c.hc_mult;
  const float* mixes = hc_mixes(c, w.fn, x, n, arena);
  default_thread_pool().parallel_for(n, 4, [&](int64_t t0, int64_t t1) {
    float pre[16];  // hc_mult <= 16 (config validation)
    for (int64_t t = t0; t < t1; ++t) {
      const float* m = mixes + t * c.hc_mix();
      for (int j = 0; j < hc; ++j) {
        pre[j] = sigmoid(m[j] * w.scale[0] + w.base[j]) + c.hc_eps;
        post[t * hc + j] = 2.0f * sigmoid(m[hc + j] * w.scale[1] + w.base[hc + j]);
      }
      float* ct = comb + t * hc * hc;
      for (int jk = 0; jk < hc * hc; ++jk) ct[jk] = m[2 * hc + jk] * w.scale[2] + w.base[2 * hc + jk];
      sinkhorn(ct, hc, c.hc_sinkhorn_iters, c.hc_eps);
      weighted_stream_sum(c, pre, x + t * c.hc_dim(), y + t * c.dim);
    }
  });
}

void hc_post(const ModelConfig& c, const float* f, const float* post, const float* comb, int64_t n, float* x) {
  const int hc = c.hc_mult;
  default_thread_pool().parallel_for(n, 4, [&](int64_t t0, int64_t t1) {
    thread_local std::vector<float> out;
    out.resize(size_t(c.hc_dim()));
    for (int64_t t = t0; t < t1; ++t) {
      float* xt = x + t * c.hc_dim();
      const float* ct = comb + t * hc * hc;
      const float* ft = f + t * c.dim;
      for (int k = 0; k < hc; ++k) {  // the residual mix first, then post · f: the reference's order
        float* ok = out.data() + k * c.dim;
        for (int d = 0; d < c.dim; ++d) ok[d] = ct[k] * xt[d];
        for (int j = 1; j < hc; ++j) {
          const float cjk = ct[j * hc + k];
          const float* xj = xt + j * c.dim;
          for (int d = 0; d < c.dim; ++d) ok[d] += cjk * xj[d];
        }
        const float pk = post[t * hc + k];
        for (int d = 0; d < c.dim; ++d) ok[d] = pk * ft[d] + ok[d];
      }
      std::copy(out.begin(), out.end(), xt);
    }
  });
}

void hc_head(const ModelConfig& c, const HcHeadWeights& w, const float* x, int64_t n, float* y, Arena& arena) {
  const int hc = c.hc_mult;
  const float* mixes = hc_mixes(c, w.fn, x, n, arena);
  default_thread_pool().parallel_for(n, 4, [&](int64_t t0, int64_t t1) {
    float pre[16];
    for (int64_t t = t0; t < t1; ++t) {
      for (int j = 0; j < hc; ++j) pre[j] = sigmoid(mixes[t * hc + j] * w.scale[0] + w.base[j]) + c.hc_eps;
      weighted_stream_sum(c, pre, x + t * c.hc_dim(), y + t * c.dim);
    }
  });
}

}  // namespace dsv4
