// matmul_ref for every weight format against a direct double-precision product of the dequantized
// weights and the (quantized) activations, at shapes that are not multiples of the block sizes.
#include "kernels/matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

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

TEST(Matmul, RowSlicesMatchTheWholeMatrix) {
  for (auto f : {WeightFormat::kBF16, WeightFormat::kFP8, WeightFormat::kFP4}) {
    Case c = make(f, 256, 256, 13);
    c.w.quantize_input = f != WeightFormat::kBF16;
    std::vector<float> x(256, 0.5f), full(256), part(128);
    x[7] = -3.0f;
    matmul_ref(c.w, x.data(), 1, full.data());
    matmul_ref(weight_rows(c.w, 128, 256), x.data(), 1, part.data());
    for (int i = 0; i < 128; ++i) EXPECT_EQ(part[size_t(i)], full[size_t(128 + i)]) << weight_format_name(f);
  }
}

TEST(Matmul, WeightBytesCountScales) {
  EXPECT_EQ(make(WeightFormat::kFP8, 300, 256, 1).w.weight_bytes(), 300 * 256 + 3 * 2);
  EXPECT_EQ(make(WeightFormat::kFP4, 4, 64, 1).w.weight_bytes(), 4 * 32 + 4 * 2);
}

}  // namespace
}  // namespace dsv4
