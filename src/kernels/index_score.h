// Lightning-indexer scores from FP4 keys by integer dot products. The model FP4-simulates both the
// queries and the keys (e2m1 values, power-of-two scales per 32 dims), so 2 · value / scale is an
// integer in [−12, 12] and a block's dot product is an exact integer sum (VNNI vpdpbusd does 64 of its
// products per instruction). Only the scaling, the sums over blocks and heads, and relu are FP32, each
// one fused multiply-add, in this order (SIMD and reference give the same bits):
//   t_h   = Σ_b I_hb · (sk_b · sq_hb / 4)           I_hb = Σ_{d ∈ b} iq_hd · ik_d
//   score = Σ_h relu(t_h) · w_h
//
// Key tables hold keys in tiles of 16 (so that one vector holds one value of 16 keys): per group g of 4
// dims, the 16 keys' 4 codes as 2 bytes each (dims 4g, 4g + 1 in the first byte, low nibble first), then
// per block b the 16 keys' e8m0 scale bytes. A tile takes 16 · (width / 2 + width / 32) bytes: 16 rows'
// worth, nothing added.
#pragma once

#include <cstdint>

namespace dsv4 {

inline constexpr int kFp4TileKeys = 16;
inline constexpr int kFp4IndexBlock = 32;

int64_t fp4_tile_bytes(int width);
// Key `row` of a table from its e2m1 codes (one per byte, width of them) and e8m0 scale bytes.
void fp4_tile_store(uint8_t* table, int64_t row, int width, const uint8_t* codes, const uint8_t* scales);
// Key `row` decoded to FP32 [width].
void fp4_tile_load(const uint8_t* table, int64_t row, int width, float* dst);

// Queries in integer form: for each of `n` query-heads, codes [width] (iq, in [−12, 12]), scales
// [width / 32] (sq / 4) and code sums [width / 32] (Σ iq per block).
struct Fp4Queries {
  int8_t* codes;
  float* scales;
  int32_t* sums;
};
// From FP32 query-heads already on the FP4 grid (fp4_simulate with 32-blocks): x [n, width].
void fp4_queries_from_grid(const float* x, int64_t n, int width, Fp4Queries out);

// scores[i · stride + e] for queries i < nq (each with `heads` query-heads, weights head_w [nq, heads])
// and keys e of tiles [tile0, tile1) of `table`.
void fp4_index_scores(const uint8_t* table, int64_t tile0, int64_t tile1, int width, const Fp4Queries& q,
                      const float* head_w, int64_t nq, int heads, float* scores, int64_t stride);
void fp4_index_scores_ref(const uint8_t* table, int64_t tile0, int64_t tile1, int width, const Fp4Queries& q,
                          const float* head_w, int64_t nq, int heads, float* scores, int64_t stride);
void fp4_index_scores_avx512(const uint8_t* table, int64_t tile0, int64_t tile1, int width, const Fp4Queries& q,
                             const float* head_w, int64_t nq, int heads, float* scores, int64_t stride);

}  // namespace dsv4
