#include "kernels/rope.h"

#include <algorithm>
#include <cmath>

namespace dsv4 {

namespace {
// Dimension index at which a wavelength completes `rotations` turns over the original context.
double correction_dim(double rotations, int dim, double base, int64_t seq_len) {
  return dim * std::log(double(seq_len) / (rotations * 2 * M_PI)) / (2 * std::log(base));
}
}  // namespace

std::vector<float> rope_frequencies(const RopeParams& p) {
  const int half = p.rope_dim / 2;
  std::vector<float> f(static_cast<size_t>(half));
  for (int i = 0; i < half; ++i)
    f[size_t(i)] = 1.0f / std::pow(float(p.theta), float(2 * i) / float(p.rope_dim));
  if (p.original_seq_len > 0) {
    int low = int(std::floor(correction_dim(p.beta_fast, p.rope_dim, p.theta, p.original_seq_len)));
    int high = int(std::ceil(correction_dim(p.beta_slow, p.rope_dim, p.theta, p.original_seq_len)));
    low = std::max(low, 0);
    high = std::min(high, p.rope_dim - 1);
    const float span = low == high ? 0.001f : float(high - low);
    for (int i = 0; i < half; ++i) {
      const float ramp = std::clamp((float(i) - float(low)) / span, 0.0f, 1.0f);
      const float fi = f[size_t(i)];
      f[size_t(i)] = fi / float(p.factor) * ramp + fi * (1.0f - ramp);
    }
  }
  return f;
}

void rope_apply(float* x, const std::vector<float>& freqs, int64_t pos, bool inverse) {
  const float t = float(pos);
  for (size_t i = 0; i < freqs.size(); ++i) {
    const float angle = t * freqs[i];
    const float c = std::cos(angle);
    const float s = inverse ? -std::sin(angle) : std::sin(angle);
    const float re = x[2 * i], im = x[2 * i + 1];
    x[2 * i] = re * c - im * s;
    x[2 * i + 1] = re * s + im * c;
  }
}

}  // namespace dsv4
