// Walsh–Hadamard transform in natural (Sylvester) order scaled by n^-1/2, FP32 butterflies: the
// reference's rotate_activation (fast_hadamard_transform) that spreads the indexer's values before FP4.
#pragma once

#include <cstdint>

namespace dsv4 {

void hadamard_transform(float* x, int n);  // n must be a power of two

}  // namespace dsv4
