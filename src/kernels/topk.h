// Indices of the k largest scores, in descending order of score; equal scores keep ascending index
// order (torch.topk leaves this order implementation-defined).
#pragma once

#include <cstdint>

namespace dsv4 {

void topk(const float* scores, int n, int k, int32_t* out);  // k <= n

}  // namespace dsv4
