// C = alpha·op(A)·op(B) + beta·C, row-major, for the scalar types the trainer is instantiated with (FP32
// to train, FP64 for gradient checks). A thin overload set over cblas so templated ops stay BLAS-free.
#pragma once

#include <cstdint>

namespace dsv4 {

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
          int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc);

}  // namespace dsv4
