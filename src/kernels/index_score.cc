#include "kernels/index_score.h"

#include <cmath>
#include <cstdlib>

#include "base/check.h"
#include "base/cpu_features.h"
#include "base/float_formats.h"
#include "kernels/quantize.h"

namespace dsv4 {

namespace {

// Where key j's codes of dim group g, and its scale of block b, sit in a tile.
int64_t code_offset(int g, int j) { return int64_t(g) * 2 * kFp4TileKeys + 2 * j; }
int64_t scale_offset(int width, int b, int j) {
  return code_offset(width / 4, 0) + int64_t(b) * kFp4TileKeys + j;
}

const uint8_t* tile_of(const uint8_t* table, int64_t row, int width) {
  return table + row / kFp4TileKeys * fp4_tile_bytes(width);
}

// The e2m1 code of dim d of key j in a tile.
uint8_t code_at(const uint8_t* tile, int j, int d) {
  const uint8_t byte = tile[code_offset(d / 4, j) + (d % 4) / 2];
  return d % 2 ? byte >> 4 : byte & 0xf;
}

// 2 × the e2m1 value of each code: the integer the products use.
constexpr int8_t kTwiceE2m1[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

}  // namespace

int64_t fp4_tile_bytes(int width) { return int64_t(kFp4TileKeys) * (width / 2 + width / kFp4IndexBlock); }

void fp4_tile_store(uint8_t* table, int64_t row, int width, const uint8_t* codes, const uint8_t* scales) {
  uint8_t* tile = table + row / kFp4TileKeys * fp4_tile_bytes(width);
  const int j = int(row % kFp4TileKeys);
  for (int g = 0; g < width / 4; ++g) {
    const uint8_t* c = codes + 4 * g;
    tile[code_offset(g, j)] = uint8_t(c[0] | c[1] << 4);
    tile[code_offset(g, j) + 1] = uint8_t(c[2] | c[3] << 4);
  }
  for (int b = 0; b < width / kFp4IndexBlock; ++b) tile[scale_offset(width, b, j)] = scales[b];
}

void fp4_tile_load(const uint8_t* table, int64_t row, int width, float* dst) {
  const uint8_t* tile = tile_of(table, row, width);
  const int j = int(row % kFp4TileKeys);
  for (int d = 0; d < width; ++d)
    dst[d] = e2m1_to_f32(code_at(tile, j, d)) * e8m0_to_f32(tile[scale_offset(width, d / kFp4IndexBlock, j)]);
}

void fp4_queries_from_grid(const float* x, int64_t n, int width, Fp4Queries out) {
  const int nb = width / kFp4IndexBlock;
  for (int64_t r = 0; r < n; ++r) {
    for (int b = 0; b < nb; ++b) {
      const float* xb = x + r * width + b * kFp4IndexBlock;
      float amax = 0.0f;
      for (int d = 0; d < kFp4IndexBlock; ++d) amax = std::fmax(amax, std::fabs(xb[d]));
      // The simulation's own scale, or half of it when the block's largest value is 3 (then 4 · v is
      // still an integer ≤ 12): either way 2 · x / s is exact.
      const float s = pow2_scale(std::fmax(amax, kFp4AmaxFloor), 1.0f / kFp4Max);
      int32_t sum = 0;
      for (int d = 0; d < kFp4IndexBlock; ++d) {
        const float v = xb[d] * 2.0f / s;
        const int iq = int(std::lrint(v));
        DSV4_CHECK(float(iq) == v && std::abs(iq) <= 12);  // the query is on the FP4 grid
        out.codes[r * width + b * kFp4IndexBlock + d] = int8_t(iq);
        sum += iq;
      }
      out.scales[r * nb + b] = s * 0.25f;
      out.sums[r * nb + b] = sum;
    }
  }
}

void fp4_index_scores_ref(const uint8_t* table, int64_t tile0, int64_t tile1, int width, const Fp4Queries& q,
                          const float* head_w, int64_t nq, int heads, float* scores, int64_t stride) {
  const int nb = width / kFp4IndexBlock;
  for (int64_t t = tile0; t < tile1; ++t) {
    const uint8_t* tile = table + t * fp4_tile_bytes(width);
    for (int j = 0; j < kFp4TileKeys; ++j) {
      for (int64_t i = 0; i < nq; ++i) {
        float score = 0.0f;
        for (int h = 0; h < heads; ++h) {
          const int64_t r = i * heads + h;
          float th = 0.0f;
          for (int b = 0; b < nb; ++b) {
            int32_t dot = 0;
            for (int d = b * kFp4IndexBlock; d < (b + 1) * kFp4IndexBlock; ++d)
              dot += int32_t(q.codes[r * width + d]) * kTwiceE2m1[code_at(tile, j, d)];
            const float sk = e8m0_to_f32(tile[scale_offset(width, b, j)]);
            th = std::fma(float(dot), sk * q.scales[r * nb + b], th);
          }
          score = std::fma(th > 0.0f ? th : 0.0f, head_w[r], score);
        }
        scores[i * stride + t * kFp4TileKeys + j] = score;
      }
    }
  }
}

void fp4_index_scores(const uint8_t* table, int64_t tile0, int64_t tile1, int width, const Fp4Queries& q,
                      const float* head_w, int64_t nq, int heads, float* scores, int64_t stride) {
  DSV4_CHECK(width % kFp4IndexBlock == 0 && width <= 256);
  if (active_isa() == Isa::kAvx512)
    return fp4_index_scores_avx512(table, tile0, tile1, width, q, head_w, nq, heads, scores, stride);
  fp4_index_scores_ref(table, tile0, tile1, width, q, head_w, nq, heads, scores, stride);
}

}  // namespace dsv4
