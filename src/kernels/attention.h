// Attention of one query position over a gathered list of KV entries, with a per-head sink: the
// reference's sparse_attn. K = V = the entry (MQA over a shared latent); the sink is a logit with no
// value, so it only absorbs probability mass:
//   o_h = Σ_j e^(z_hj − M) kv_j / (Σ_j e^(z_hj − M) + e^(sink_h − M)),  z_hj = scale · q_h·kv_j,
//   M = max_j z_hj.
// FP32 throughout (the reference rounds the numerator probabilities to BF16; FP32 mode does not).
#pragma once

#include <cstdint>
#include <functional>

namespace dsv4 {

// Entries kept encoded (a quantized table of compressed entries), which attention decodes block by
// block as it reads them, so that a single query over thousands of them never writes an FP32 copy of
// the table: decode(i0, i1, dst) writes rows [i0, i1) as FP32, dst [i1 − i0, d].
struct EncodedRows {
  int64_t n = 0;
  std::function<void(int64_t, int64_t, float*)> decode;
};

// q: [n_heads, d]; kv: n_kv pointers to [d] entries, then the `encoded` rows (n_kv + encoded.n >= 1);
// sink: [n_heads]; o: [n_heads, d]. Entries that follow each other in memory (the window, a layer's
// compressed entries) are read in place, as one matrix per run: scores by a matrix product, then the
// weighted sum row by row. Encoded rows give the same bits as their decoded rows in the list would.
void sparse_attention(const float* q, int n_heads, int d, const float* const* kv, int n_kv,
                      const EncodedRows& encoded, const float* sink, float scale, float* o);
// The definition, one dot product at a time.
void sparse_attention_ref(const float* q, int n_heads, int d, const float* const* kv, int n_kv, const float* sink,
                          float scale, float* o);

// For each of `heads` weight rows (head h's at w + h · w_stride) and its output (out + h · d):
// out[h · d + k] += Σ_j w[h · w_stride + j] · rows[j · d + k] for k < d, j in order, one fused
// multiply-add per term (so the SIMD variant gives the reference's bits). The heads share `rows`, which
// the SIMD variant reads once per group of heads.
void accumulate_weighted_rows(const float* w, int64_t w_stride, int heads, int n, const float* rows, int d,
                              float* out);
void accumulate_weighted_rows_ref(const float* w, int64_t w_stride, int heads, int n, const float* rows, int d,
                                  float* out);
void accumulate_weighted_rows_avx512(const float* w, int64_t w_stride, int heads, int n, const float* rows, int d,
                                     float* out);  // AVX-512 CPUs

}  // namespace dsv4
