// Attention of one query position over a gathered list of KV entries, with a per-head sink: the
// reference's sparse_attn. K = V = the entry (MQA over a shared latent); the sink is a logit with no
// value, so it only absorbs probability mass:
//   o_h = Σ_j e^(z_hj − M) kv_j / (Σ_j e^(z_hj − M) + e^(sink_h − M)),  z_hj = scale · q_h·kv_j,
//   M = max_j z_hj.
// FP32 throughout (the reference rounds the numerator probabilities to BF16; FP32 mode does not).
#pragma once

namespace dsv4 {

// q: [n_heads, d]; kv: n_kv pointers to [d] entries (n_kv >= 1); sink: [n_heads]; o: [n_heads, d].
// Runs as two matrix products over the gathered entries (scores, then the weighted sum).
void sparse_attention(const float* q, int n_heads, int d, const float* const* kv, int n_kv, const float* sink,
                      float scale, float* o);
// The definition, one dot product at a time.
void sparse_attention_ref(const float* q, int n_heads, int d, const float* const* kv, int n_kv, const float* sink,
                          float scale, float* o);

}  // namespace dsv4
