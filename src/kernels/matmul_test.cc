// matmul_ref for every weight format against a direct double-precision product of the dequantized
// weights and the (quantized) activations, at shapes that are not multiples of the block sizes.
#include "kernels/matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "base/cpu_features.h"
#include "base/float_formats.h"
#include "kernels/quantize.h"

namespace dsv4 {
namespace {

struct Case {
  std::vector<uint8_t> data, scale;
  WeightMatrix w;
  std::vector<double> dense;  // dequantized [rows, cols]
};

Case make(WeightFormat f, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255), exp(120, 130);
  std::normal_distribution<float> nd;
  Case c;
  c.w.format = f;
  c.w.rows = rows;
  c.w.cols = cols;
  c.dense.resize(size_t(rows * cols));
  if (f == WeightFormat::kBF16 || f == WeightFormat::kF32) {
    c.data.resize(size_t(rows * cols * (f == WeightFormat::kBF16 ? 2 : 4)));
    for (int64_t i = 0; i < rows * cols; ++i) {
      const float v = nd(rng);
      if (f == WeightFormat::kBF16) {
        const uint16_t h = f32_to_bf16(v);
        std::memcpy(&c.data[size_t(2 * i)], &h, 2);
        c.dense[size_t(i)] = bf16_to_f32(h);
      } else {
        std::memcpy(&c.data[size_t(4 * i)], &v, 4);
        c.dense[size_t(i)] = v;
      }
    }
  } else if (f == WeightFormat::kFP8) {
    const int64_t sr = (rows + 127) / 128, sc = (cols + 127) / 128;
    c.data.resize(size_t(rows * cols));
    c.scale.resize(size_t(sr * sc));
    for (auto& s : c.scale) s = uint8_t(exp(rng));
    for (int64_t i = 0; i < rows * cols; ++i) {
      uint8_t code = uint8_t(byte(rng));
      if ((code & 0x7f) == 0x7f) code = 0;  // no NaN weights
      c.data[size_t(i)] = code;
      const int64_t r = i / cols, k = i % cols;
      c.dense[size_t(i)] = double(e4m3_to_f32(code)) * e8m0_to_f32(c.scale[size_t(r / 128 * sc + k / 128)]);
    }
  } else {
    c.data.resize(size_t(rows * cols / 2));
    c.scale.resize(size_t(rows * cols / 32));
    for (auto& s : c.scale) s = uint8_t(exp(rng));
    for (auto& b : c.data) b = uint8_t(byte(rng));
    for (int64_t i = 0; i < rows * cols; ++i) {
      const int64_t r = i / cols, k = i % cols;
      const uint8_t b = c.data[size_t(r * cols / 2 + k / 2)];
      const uint8_t code = k % 2 ? b >> 4 : b & 0xf;
      c.dense[size_t(i)] = double(e2m1_to_f32(code)) * e8m0_to_f32(c.scale[size_t(r * cols / 32 + k / 32)]);
    }
  }
  c.w.data = c.data.data();
  c.w.scale = c.scale.empty() ? nullptr : c.scale.data();
  return c;
}

void expect_matches(const Case& c, int64_t m, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  std::vector<float> x(size_t(m * c.w.cols)), y(size_t(m * c.w.rows));
  for (float& v : x) v = nd(rng);
  matmul_ref(c.w, x.data(), m, y.data());
  std::vector<float> xq = x;
  if (c.w.quantize_input)
    for (int64_t i = 0; i < m; ++i) fp8_simulate(xq.data() + i * c.w.cols, c.w.cols, 128);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t n = 0; n < c.w.rows; ++n) {
      double want = 0, mag = 0;
      for (int64_t k = 0; k < c.w.cols; ++k) {
        want += double(xq[size_t(i * c.w.cols + k)]) * c.dense[size_t(n * c.w.cols + k)];
        mag += std::fabs(double(xq[size_t(i * c.w.cols + k)]) * c.dense[size_t(n * c.w.cols + k)]);
      }
      // FP32 accumulation error is bounded by ~K · eps · Σ|terms|.
      EXPECT_NEAR(y[size_t(i * c.w.rows + n)], want, 1e-6 * double(c.w.cols) * mag + 1e-30)
          << weight_format_name(c.w.format) << " row " << i << " out " << n;
    }
}

TEST(Matmul, F32AndBf16) {
  for (auto f : {WeightFormat::kF32, WeightFormat::kBF16}) {
    const Case c = make(f, 37, 75, 3);
    expect_matches(c, 5, 4);
  }
}

TEST(Matmul, Fp8BlockScalesWithAndWithoutInputQuantization) {
  Case c = make(WeightFormat::kFP8, 300, 256, 5);  // 300 rows: a partial 128-row scale block
  expect_matches(c, 3, 6);
  c.w.quantize_input = true;
  expect_matches(c, 3, 7);
  Case odd = make(WeightFormat::kFP8, 130, 200, 8);  // K not a multiple of 128 (no input quantization)
  expect_matches(odd, 2, 9);
}

TEST(Matmul, Fp4PackedWithInputQuantization) {
  Case c = make(WeightFormat::kFP4, 45, 384, 10);
  c.w.quantize_input = true;
  expect_matches(c, 4, 11);
  c.w.quantize_input = false;
  expect_matches(c, 1, 12);
}

TEST(Matmul, RowSlicesMatchTheWholeMatrixReference) {
  for (auto f : {WeightFormat::kBF16, WeightFormat::kFP8, WeightFormat::kFP4}) {
    Case c = make(f, 256, 256, 13);
    c.w.quantize_input = f != WeightFormat::kBF16;
    std::vector<float> x(256, 0.5f), full(256), part(128);
    x[7] = -3.0f;
    matmul_ref(c.w, x.data(), 1, full.data());
    matmul_ref(weight_rows(c.w, 128, 256), x.data(), 1, part.data());
    for (int i = 0; i < 128; ++i) EXPECT_EQ(part[size_t(i)], full[size_t(128 + i)]) << weight_format_name(f);
    matmul(c.w, x.data(), 1, full.data());
    matmul(weight_rows(c.w, 128, 256), x.data(), 1, part.data());
    for (int i = 0; i < 128; ++i) EXPECT_EQ(part[size_t(i)], full[size_t(128 + i)]) << weight_format_name(f);
  }
}

TEST(Matmul, WeightBytesCountScales) {
  EXPECT_EQ(make(WeightFormat::kFP8, 300, 256, 1).w.weight_bytes(), 300 * 256 + 3 * 2);
  EXPECT_EQ(make(WeightFormat::kFP4, 4, 64, 1).w.weight_bytes(), 4 * 32 + 4 * 2);
}


// Every variant the machine can run (scalar, AVX2, AVX-512) against matmul_ref: GEMV and GEMM row
// counts, weight rows and K not multiples of the SIMD widths or the kernels' blocks.
class MatmulVariants : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (GetParam() > cpu_isa()) GTEST_SKIP() << isa_name(GetParam()) << " not available on this CPU";
    set_isa_limit(GetParam());
  }
  void TearDown() override { set_isa_limit(Isa::kAvx512); }
};

void expect_variant_matches_ref(const Case& c, int64_t m, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  std::vector<float> x(static_cast<size_t>(m * c.w.cols)), want(static_cast<size_t>(m * c.w.rows)), got(want.size());
  for (float& v : x) v = nd(rng);
  matmul_ref(c.w, x.data(), m, want.data());
  matmul(c.w, x.data(), m, got.data());
  for (int64_t i = 0; i < m; ++i)
    for (int64_t n = 0; n < c.w.rows; ++n) {
      double mag = 0;  // Σ|x·w|, the scale of the FP32 rounding differences
      for (int64_t k = 0; k < c.w.cols; ++k)
        mag += std::fabs(double(x[size_t(i * c.w.cols + k)]) * c.dense[size_t(n * c.w.cols + k)]);
      EXPECT_NEAR(got[size_t(i * c.w.rows + n)], want[size_t(i * c.w.rows + n)], 2e-6 * mag + 1e-30)
          << weight_format_name(c.w.format) << " m " << m << " row " << i << " out " << n;
    }
}

TEST_P(MatmulVariants, MatchTheReference) {
  for (int64_t m : {1, 2, 3, 4, 5, 31, 33, 70}) {
    for (auto f : {WeightFormat::kF32, WeightFormat::kBF16}) expect_variant_matches_ref(make(f, 53, 77, 21), m, 22);
    Case fp8 = make(WeightFormat::kFP8, 139, 256, 23);
    expect_variant_matches_ref(fp8, m, 24);
    fp8.w.quantize_input = true;
    expect_variant_matches_ref(fp8, m, 25);
    expect_variant_matches_ref(make(WeightFormat::kFP8, 29, 200, 26), m, 27);  // K tail, raw input
    Case fp4 = make(WeightFormat::kFP4, 37, 384, 28);
    fp4.w.quantize_input = true;
    expect_variant_matches_ref(fp4, m, 29);
    fp4.w.quantize_input = false;
    expect_variant_matches_ref(fp4, m, 30);
  }
}

// An output's bits depend only on its weight row and activation row: the same whether the call has 1, 3
// or 70 activation rows (GEMV or GEMM), whichever rows come with it.
TEST_P(MatmulVariants, AreBatchInvariant) {
  std::vector<Case> cases;
  cases.push_back(make(WeightFormat::kF32, 53, 77, 31));
  cases.push_back(make(WeightFormat::kBF16, 40, 130, 32));
  cases.push_back(make(WeightFormat::kFP8, 139, 256, 33));
  cases.push_back(make(WeightFormat::kFP8, 29, 200, 34));
  cases.push_back(make(WeightFormat::kFP8, 48, 384, 35));
  cases.back().w.quantize_input = true;
  cases.push_back(make(WeightFormat::kFP4, 37, 384, 36));
  cases.back().w.quantize_input = true;
  std::mt19937 rng(37);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  for (const Case& c : cases) {
    const int64_t m = 70;
    std::vector<float> x(static_cast<size_t>(m * c.w.cols)), all(static_cast<size_t>(m * c.w.rows));
    for (float& v : x) v = nd(rng);
    matmul(c.w, x.data(), m, all.data());
    for (int64_t batch : {1, 2, 3, 4, 5, 13}) {
      std::vector<float> part(static_cast<size_t>(batch * c.w.rows));
      for (int64_t i0 = 0; i0 + batch <= m; i0 += batch) {
        matmul(c.w, x.data() + i0 * c.w.cols, batch, part.data());
        for (int64_t i = 0; i < batch * c.w.rows; ++i)
          ASSERT_EQ(f32_bits(part[size_t(i)]), f32_bits(all[size_t(i0 * c.w.rows + i)]))
              << weight_format_name(c.w.format) << " batch " << batch << " row " << i0 + i / c.w.rows;
      }
    }
  }
}

// Activation rows whose e4m3 codes cover the whole range, subnormals included, mixed with ordinary rows:
// the AVX-512 FP4 kernel takes extra integer products for chunks with codes below 1/8, for all rows of a
// tile; the results must not depend on which rows share a call.
TEST_P(MatmulVariants, Fp4WithTinyAndHugeActivationCodes) {
  Case c = make(WeightFormat::kFP4, 41, 512, 38);
  c.w.quantize_input = true;
  const int64_t m = 9, K = c.w.cols;
  std::mt19937 rng(39);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(size_t(m * K));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t k = 0; k < K; ++k) {
      float v = nd(rng);
      if (i % 3 == 1 && k < 128) v *= k % 2 ? 1e-4f : 1.0f;  // tiny codes next to full-size ones
      if (i % 3 == 2 && k >= 256 && k < 384) v = k % 5 ? 448.0f : -448.0f;  // every code at the maximum
      x[size_t(i * K + k)] = v;
    }
  std::vector<float> want(size_t(m * c.w.rows)), all(want.size());
  matmul_ref(c.w, x.data(), m, want.data());
  matmul(c.w, x.data(), m, all.data());
  for (int64_t i = 0; i < m * c.w.rows; ++i) {
    const int64_t row = i / c.w.rows, out = i % c.w.rows;
    double mag = 0;
    for (int64_t k = 0; k < K; ++k) mag += std::fabs(double(x[size_t(row * K + k)]) * c.dense[size_t(out * K + k)]);
    EXPECT_NEAR(all[size_t(i)], want[size_t(i)], 2e-6 * mag) << "row " << row << " out " << out;
  }
  for (int64_t batch : {1, 2, 3, 4, 5}) {
    std::vector<float> part(size_t(batch * c.w.rows));
    for (int64_t i0 = 0; i0 + batch <= m; i0 += batch) {
      matmul(c.w, x.data() + i0 * K, batch, part.data());
      for (int64_t i = 0; i < batch * c.w.rows; ++i)
        ASSERT_EQ(f32_bits(part[size_t(i)]), f32_bits(all[size_t(i0 * c.w.rows + i)])) << "batch " << batch;
    }
  }
}

// A batch of jobs (shared and separate inputs, GEMV and GEMM sizes, empty ones, enough work to be split
// between threads) gives each job the bits of its own matmul call.
TEST_P(MatmulVariants, BatchGivesEachJobTheBitsOfItsOwnCall) {
  struct Shape {
    WeightFormat f;
    int64_t rows, cols;
  };
  std::vector<Case> cases;  // (moved in: a copy's w.data would point into the original's bytes)
  uint32_t seed = 41;
  for (const Shape& s : {Shape{WeightFormat::kFP4, 301, 512}, Shape{WeightFormat::kFP4, 97, 512},
                         Shape{WeightFormat::kFP8, 260, 512}, Shape{WeightFormat::kBF16, 75, 130},
                         Shape{WeightFormat::kFP4, 50, 256}})
    cases.push_back(make(s.f, s.rows, s.cols, seed++));
  for (size_t i = 0; i < 3; ++i) cases[i].w.quantize_input = true;  // the three products of `shared`
  std::mt19937 rng(46);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  const auto random_rows = [&](int64_t m, int64_t cols) {
    std::vector<float> x(static_cast<size_t>(m * cols));
    for (float& v : x) v = nd(rng);
    return x;
  };
  const std::vector<float> shared = random_rows(1, 512), bf16_x = random_rows(3, 130), fp4_x = random_rows(7, 256);
  const WeightMatrix no_rows = weight_rows(cases[0].w, 0, 0);  // first with `shared`, yet nothing to prepare
  struct Run {
    const WeightMatrix* w;
    const float* x;
    int64_t m;
  };
  const std::vector<Run> runs = {{&no_rows, shared.data(), 1},       {&cases[0].w, shared.data(), 1},
                                 {&cases[1].w, shared.data(), 1},    {&cases[2].w, shared.data(), 1},
                                 {&cases[3].w, bf16_x.data(), 3},    {&cases[4].w, fp4_x.data(), 0},
                                 {&cases[4].w, fp4_x.data(), 7}};
  std::vector<std::vector<float>> got(runs.size());
  std::vector<MatmulJob> jobs;
  for (size_t j = 0; j < runs.size(); ++j) {
    got[j].assign(static_cast<size_t>(runs[j].m * runs[j].w->rows), -1.0f);
    jobs.push_back({runs[j].w, runs[j].x, runs[j].m, got[j].data()});
  }
  matmul_batch(jobs);
  for (size_t j = 0; j < runs.size(); ++j) {
    std::vector<float> want(got[j].size());
    matmul(*runs[j].w, runs[j].x, runs[j].m, want.data());
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_EQ(f32_bits(got[j][i]), f32_bits(want[i])) << "job " << j << " output " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, MatmulVariants, ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

}  // namespace
}  // namespace dsv4
