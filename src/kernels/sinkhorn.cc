#include "kernels/sinkhorn.h"

#include <cmath>

namespace dsv4 {

namespace {
void normalize_rows(float* m, int n, float eps) {
  for (int j = 0; j < n; ++j) {
    float s = 0.0f;
    for (int k = 0; k < n; ++k) s += m[j * n + k];
    for (int k = 0; k < n; ++k) m[j * n + k] /= s + eps;
  }
}
void normalize_cols(float* m, int n, float eps) {
  for (int k = 0; k < n; ++k) {
    float s = 0.0f;
    for (int j = 0; j < n; ++j) s += m[j * n + k];
    for (int j = 0; j < n; ++j) m[j * n + k] /= s + eps;
  }
}
}  // namespace

void sinkhorn(float* m, int n, int iters, float eps) {
  for (int j = 0; j < n; ++j) {  // row softmax: the first row normalisation
    float* row = m + j * n;
    float mx = row[0];
    for (int k = 1; k < n; ++k) mx = std::fmax(mx, row[k]);
    float s = 0.0f;
    for (int k = 0; k < n; ++k) s += row[k] = std::exp(row[k] - mx);
    for (int k = 0; k < n; ++k) row[k] = row[k] / s + eps;
  }
  normalize_cols(m, n, eps);
  for (int it = 1; it < iters; ++it) {
    normalize_rows(m, n, eps);
    normalize_cols(m, n, eps);
  }
}

}  // namespace dsv4
