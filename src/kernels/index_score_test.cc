#include "kernels/index_score.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "base/cpu_features.h"
#include "base/float_formats.h"
#include "kernels/quantize.h"

namespace dsv4 {
namespace {

struct Keys {
  int width;
  int64_t n;
  std::vector<uint8_t> table;
  std::vector<float> values;  // [n, width], what the table holds
};

// Random FP4 keys: random codes, scales 2^-8 … 2^7.
Keys random_keys(int width, int64_t n_tiles, std::mt19937& rng) {
  Keys k{width, n_tiles * kFp4TileKeys, std::vector<uint8_t>(size_t(n_tiles * fp4_tile_bytes(width))), {}};
  k.values.resize(size_t(k.n * width));
  std::vector<uint8_t> codes(static_cast<size_t>(width)), scales(static_cast<size_t>(width / kFp4IndexBlock));
  for (int64_t e = 0; e < k.n; ++e) {
    for (uint8_t& c : codes) c = uint8_t(rng() % 16);
    for (uint8_t& s : scales) s = uint8_t(119 + rng() % 16);
    fp4_tile_store(k.table.data(), e, width, codes.data(), scales.data());
    for (int d = 0; d < width; ++d)
      k.values[size_t(e * width + d)] = e2m1_to_f32(codes[size_t(d)]) * e8m0_to_f32(scales[size_t(d / kFp4IndexBlock)]);
  }
  return k;
}

TEST(Fp4Tiles, StoreThenLoadGivesTheKeys) {
  std::mt19937 rng(1);
  for (int width : {32, 64, 128}) {
    const Keys k = random_keys(width, 3, rng);
    std::vector<float> row(static_cast<size_t>(width));
    for (int64_t e = 0; e < k.n; ++e) {
      fp4_tile_load(k.table.data(), e, width, row.data());
      for (int d = 0; d < width; ++d) ASSERT_EQ(row[size_t(d)], k.values[size_t(e * width + d)]) << e << " " << d;
    }
  }
}

// Integer scores against the definition in double, and the SIMD variant against the reference bit for bit.
TEST(Fp4IndexScores, MatchTheDefinitionAndTheReference) {
  set_isa_limit(cpu_isa());
  std::mt19937 rng(2);
  std::normal_distribution<float> nd;
  for (int width : {32, 64, 128}) {
    for (int heads : {1, 3}) {
      for (int64_t nq : {1, 5}) {
        const int64_t n_tiles = 4, nb = width / kFp4IndexBlock;
        const Keys k = random_keys(width, n_tiles, rng);
        std::vector<float> x(size_t(nq * heads * width)), head_w(size_t(nq * heads));
        for (size_t i = 0; i < x.size(); ++i) x[i] = nd(rng) * std::ldexp(1.0f, int(i / 32 % 9) - 4);
        fp4_simulate(x.data(), int64_t(x.size()), kFp4IndexBlock);
        for (float& w : head_w) w = nd(rng);
        std::vector<int8_t> codes(x.size());
        std::vector<float> scales(size_t(nq * heads * nb));
        std::vector<int32_t> sums(scales.size());
        const Fp4Queries q{codes.data(), scales.data(), sums.data()};
        fp4_queries_from_grid(x.data(), nq * heads, width, q);
        for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(float(codes[i]) * 2.0f * scales[i / kFp4IndexBlock], x[i]);

        const int64_t stride = k.n + 3, from = 1;  // tiles [1, 4)
        std::vector<float> want(size_t(nq * stride), -1.0f), got = want;
        fp4_index_scores_ref(k.table.data(), from, n_tiles, width, q, head_w.data(), nq, heads, want.data(), stride);
        fp4_index_scores(k.table.data(), from, n_tiles, width, q, head_w.data(), nq, heads, got.data(), stride);
        for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(f32_bits(want[i]), f32_bits(got[i])) << "i " << i;
        for (int64_t i = 0; i < nq; ++i) {
          for (int64_t e = 0; e < k.n; ++e) {
            const float s = want[size_t(i * stride + e)];
            if (e < from * kFp4TileKeys) {
              EXPECT_EQ(s, -1.0f);  // outside the tiles asked for: untouched
              continue;
            }
            double def = 0;
            for (int h = 0; h < heads; ++h) {
              double dot = 0;
              for (int d = 0; d < width; ++d)
                dot += double(x[size_t((i * heads + h) * width + d)]) * k.values[size_t(e * width + d)];
              def += std::fmax(dot, 0.0) * head_w[size_t(i * heads + h)];
            }
            EXPECT_NEAR(s, def, 1e-5 * (1 + std::fabs(def))) << "width " << width << " query " << i << " key " << e;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace dsv4
