#include "model/hc.h"

#include <cmath>
#include <vector>

#include "kernels/rmsnorm.h"
#include "kernels/sinkhorn.h"

namespace dsv4 {

namespace {
float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }

// mixes[j] = (x · fn[j]) · rsqrt(mean(x²) + eps) over the flattened streams of one token.
void hc_mixes(const ModelConfig& c, const float* fn, int n_mix, const float* xt, float* mixes) {
  const int64_t width = c.hc_dim();
  const float r = rms_inverse(xt, width, c.norm_eps);
  for (int j = 0; j < n_mix; ++j) {
    const float* row = fn + j * width;
    float dot = 0.0f;
    for (int64_t k = 0; k < width; ++k) dot += xt[k] * row[k];
    mixes[j] = dot * r;
  }
}

void weighted_stream_sum(const ModelConfig& c, const float* pre, const float* xt, float* yt) {
  for (int d = 0; d < c.dim; ++d) {
    float s = 0.0f;
    for (int j = 0; j < c.hc_mult; ++j) s += pre[j] * xt[j * c.dim + d];
    yt[d] = s;
  }
}
}  // namespace

void hc_pre(const ModelConfig& c, const HcWeights& w, const float* x, int64_t n, float* y, float* post,
            float* comb) {
  const int hc = c.hc_mult;
  std::vector<float> mixes(static_cast<size_t>(c.hc_mix())), pre(static_cast<size_t>(hc));
  for (int64_t t = 0; t < n; ++t) {
    const float* xt = x + t * c.hc_dim();
    hc_mixes(c, w.fn, c.hc_mix(), xt, mixes.data());
    for (int j = 0; j < hc; ++j) {
      pre[size_t(j)] = sigmoid(mixes[size_t(j)] * w.scale[0] + w.base[j]) + c.hc_eps;
      post[t * hc + j] = 2.0f * sigmoid(mixes[size_t(hc + j)] * w.scale[1] + w.base[hc + j]);
    }
    float* ct = comb + t * hc * hc;
    for (int jk = 0; jk < hc * hc; ++jk) ct[jk] = mixes[size_t(2 * hc + jk)] * w.scale[2] + w.base[2 * hc + jk];
    sinkhorn(ct, hc, c.hc_sinkhorn_iters, c.hc_eps);
    weighted_stream_sum(c, pre.data(), xt, y + t * c.dim);
  }
}

void hc_post(const ModelConfig& c, const float* f, const float* post, const float* comb, int64_t n, float* x) {
  const int hc = c.hc_mult;
  std::vector<float> out(size_t(c.hc_dim()));
  for (int64_t t = 0; t < n; ++t) {
    float* xt = x + t * c.hc_dim();
    const float* ct = comb + t * hc * hc;
    const float* ft = f + t * c.dim;
    for (int k = 0; k < hc; ++k)
      for (int d = 0; d < c.dim; ++d) {
        float s = 0.0f;
        for (int j = 0; j < hc; ++j) s += ct[j * hc + k] * xt[j * c.dim + d];
        out[size_t(k * c.dim + d)] = post[t * hc + k] * ft[d] + s;
      }
    std::copy(out.begin(), out.end(), xt);
  }
}

void hc_head(const ModelConfig& c, const HcHeadWeights& w, const float* x, int64_t n, float* y) {
  const int hc = c.hc_mult;
  std::vector<float> mixes(static_cast<size_t>(hc)), pre(static_cast<size_t>(hc));
  for (int64_t t = 0; t < n; ++t) {
    const float* xt = x + t * c.hc_dim();
    hc_mixes(c, w.fn, hc, xt, mixes.data());
    for (int j = 0; j < hc; ++j) pre[size_t(j)] = sigmoid(mixes[size_t(j)] * w.scale[0] + w.base[j]) + c.hc_eps;
    weighted_stream_sum(c, pre.data(), xt, y + t * c.dim);
  }
}

}  // namespace dsv4
