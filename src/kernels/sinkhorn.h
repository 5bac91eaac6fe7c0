// Sinkhorn normalisation of a small square matrix towards doubly stochastic, in the order of the
// reference's hc_split_sinkhorn: row softmax + eps, column normalisation, then (iters − 1) rounds of
// row and column normalisation; every division adds eps to the sum.
#pragma once

namespace dsv4 {

void sinkhorn(float* m, int n, int iters, float eps);  // m: [n, n] row-major, in place

}  // namespace dsv4
