// Indices of the k largest scores, in descending order of score; equal scores keep ascending index
// order (torch.topk leaves this order implementation-defined). NaN ranks as −∞.
#pragma once

#include <cstdint>

namespace dsv4 {

// One pass that keeps the k best seen so far: a score enters only if it beats the worst of them, which
// after the first few thousand scores is rare, so the pass costs about one comparison per score.
void topk(const float* scores, int n, int k, int32_t* out);  // k <= n
// The same picks with the scores split between the default thread pool's threads: each finds the k best
// of its part, then the parts' picks are merged. For long rows that one query alone needs (decode).
void topk_parallel(const float* scores, int n, int k, int32_t* out);
// The definition: a partial sort of every index.
void topk_ref(const float* scores, int n, int k, int32_t* out);

// The first i in [from, n) with scores[i] > threshold (NaN never is), or n: the scan that top-k spends
// its time in. SIMD variants give the same answer.
int next_above(const float* scores, int from, int n, float threshold);
int next_above_ref(const float* scores, int from, int n, float threshold);
int next_above_avx512(const float* scores, int from, int n, float threshold);  // AVX-512 CPUs

}  // namespace dsv4
