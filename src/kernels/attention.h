// Attention of one query position over a gathered list of KV entries, with a per-head sink: the
// reference's sparse_attn. K = V = the entry (MQA over a shared latent); the sink is a logit with no
// value, so it only absorbs probability mass:
//   o_h = Σ_j e^(z_hj − M) kv_j / (Σ_j e^(z_hj − M) + e^(sink_h − M)),  z_hj = scale · q_h·kv_j,
//   M = max_j z_hj.
// FP32 throughout (the reference rounds the numerator probabilities to BF16; FP32 mode does not).
#pragma once

namespace dsv4 {

// q: [n_heads, d]; kv: n_kv pointers to [d] entries (n_kv >= 1); sink: [n_heads]; o: [n_heads, d].
// Entries that follow each other in memory (the window, a layer's compressed entries) are read in place,
// as one matrix per run: scores by a matrix product, then the weighted sum row by row.
void sparse_attention(const float* q, int n_heads, int d, const float* const* kv, int n_kv, const float* sink,
                      float scale, float* o);
// The definition, one dot product at a time.
void sparse_attention_ref(const float* q, int n_heads, int d, const float* const* kv, int n_kv, const float* sink,
                          float scale, float* o);

// out[k] += Σ_j w[j] · rows[j · d + k] for k < d, j in order, one fused multiply-add per term (so the SIMD
// variant gives the reference's bits).
void accumulate_weighted_rows(const float* w, int n, const float* rows, int d, float* out);
void accumulate_weighted_rows_ref(const float* w, int n, const float* rows, int d, float* out);
void accumulate_weighted_rows_avx512(const float* w, int n, const float* rows, int d, float* out);  // AVX-512 CPUs

}  // namespace dsv4
