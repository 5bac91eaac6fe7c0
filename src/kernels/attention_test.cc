#include "kernels/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "base/cpu_features.h"
#include "base/float_formats.h"
#include "kernels/quantize.h"

namespace dsv4 {
namespace {

void listed_attention(const float* q, int n_heads, int d, const float* const* kv, int n_kv, const float* sink,
                      float scale, float* o) {
  sparse_attention(q, n_heads, d, kv, n_kv, {}, sink, scale, o);
}

// Direct formula in double: softmax over [scores..., sink], values weighted without the sink.
void reference(const std::vector<float>& q, int H, int d, const std::vector<std::vector<float>>& kv,
               const std::vector<float>& sink, float scale, std::vector<double>& o) {
  o.assign(size_t(H * d), 0.0);
  for (int h = 0; h < H; ++h) {
    std::vector<double> z;
    for (const auto& e : kv) {
      double dot = 0;
      for (int k = 0; k < d; ++k) dot += double(q[size_t(h * d + k)]) * e[size_t(k)];
      z.push_back(dot * scale);
    }
    double denom = std::exp(double(sink[size_t(h)]));
    for (double v : z) denom += std::exp(v);
    for (size_t j = 0; j < kv.size(); ++j)
      for (int k = 0; k < d; ++k) o[size_t(h * d + k)] += std::exp(z[j]) / denom * kv[j][size_t(k)];
  }
}

TEST(SparseAttention, MatchesTheDirectFormulaWithSink) {
  std::mt19937 rng(9);
  std::normal_distribution<float> nd;
  for (int n_kv : {1, 3, 65, 200}) {
    const int H = 7, d = 40;  // H > 4: the product kernels take their GEMM path
    std::vector<float> q(size_t(H * d)), sink = {0.5f, -2.0f, 4.0f, 0.0f, 1.0f, -1.0f, 2.0f};
    for (float& v : q) v = nd(rng);
    std::vector<std::vector<float>> kv(static_cast<size_t>(n_kv), std::vector<float>(static_cast<size_t>(d)));
    std::vector<const float*> ptr;
    for (auto& e : kv) {
      for (float& v : e) v = nd(rng);
      ptr.push_back(e.data());
    }
    std::vector<double> want;
    reference(q, H, d, kv, sink, 0.3f, want);
    for (auto* attention : {&sparse_attention_ref, &listed_attention}) {
      std::vector<float> o(size_t(H * d));
      attention(q.data(), H, d, ptr.data(), n_kv, sink.data(), 0.3f, o.data());
      for (size_t i = 0; i < o.size(); ++i) EXPECT_NEAR(o[i], want[i], 1e-5) << "n_kv " << n_kv;
    }
  }
}

TEST(SparseAttention, MinusInfinitySinkIsPlainSoftmax) {
  const float a[2] = {1, 0}, b[2] = {0, 1};
  const float* kv[2] = {a, b};
  const float q[2] = {std::log(3.0f), 0.0f}, sink = -INFINITY;
  for (auto* attention : {&sparse_attention_ref, &listed_attention}) {
    float o[2];
    attention(q, 1, 2, kv, 2, &sink, 1.0f, o);
    EXPECT_FLOAT_EQ(o[0], 0.75f);
    EXPECT_FLOAT_EQ(o[1], 0.25f);
  }
}

// Entries that are consecutive rows of one buffer (read in place as runs) mixed with scattered ones.
TEST(SparseAttention, RunsOfConsecutiveRowsGiveTheSameResult) {
  std::mt19937 rng(4);
  std::normal_distribution<float> nd;
  const int H = 3, d = 24, n_rows = 50;
  std::vector<float> q(size_t(H * d)), rows(size_t(n_rows * d)), sink = {0.1f, -1.0f, 2.0f};
  for (float& v : q) v = nd(rng);
  for (float& v : rows) v = nd(rng);
  std::vector<std::vector<float>> kv;
  std::vector<const float*> ptr;
  for (int j = 0; j < n_rows; ++j) ptr.push_back(rows.data() + (j < 20 ? j : j < 30 ? 45 - j : j) * d);
  for (const float* p : ptr) kv.emplace_back(p, p + d);
  std::vector<double> want;
  reference(q, H, d, kv, sink, 0.2f, want);
  std::vector<float> o(size_t(H * d));
  listed_attention(q.data(), H, d, ptr.data(), int(ptr.size()), sink.data(), 0.2f, o.data());
  for (size_t i = 0; i < o.size(); ++i) EXPECT_NEAR(o[i], want[i], 1e-5);
}

// Entries given encoded (here: as BF16 rows) after the listed ones give the bits of their decoded rows
// listed, for any number of them against the decode block size, for a few heads (threads split them)
// and for many (the scores take the GEMM path).
TEST(SparseAttention, EncodedRowsGiveTheBitsOfTheirDecodedRowsListed) {
  std::mt19937 rng(12);
  std::normal_distribution<float> nd;
  for (int H : {2, 7}) {
    for (int d : {24, 128}) {
      for (int n_encoded : {1, 63, 64, 65, 700}) {
        const int n_listed = 5;
        std::vector<float> q(size_t(H * d)), sink(static_cast<size_t>(H)), listed(size_t(n_listed * d));
        std::vector<uint16_t> encoded(size_t(n_encoded) * size_t(d));
        for (float& v : q) v = nd(rng);
        for (float& v : sink) v = nd(rng);
        for (float& v : listed) v = nd(rng);
        for (uint16_t& v : encoded) v = f32_to_bf16(nd(rng));
        std::vector<float> decoded(encoded.size());
        bf16_decode(reinterpret_cast<const uint8_t*>(encoded.data()), int64_t(encoded.size()), decoded.data());
        std::vector<const float*> all, some;
        for (int j = 0; j < n_listed; ++j) all.push_back(listed.data() + j * d);
        some = all;
        for (int j = 0; j < n_encoded; ++j) all.push_back(decoded.data() + int64_t(j) * d);
        const EncodedRows rows{n_encoded, [&](int64_t i0, int64_t i1, float* dst) {
                                 bf16_decode(reinterpret_cast<const uint8_t*>(encoded.data() + i0 * d), (i1 - i0) * d, dst);
                               }};
        std::vector<float> want(size_t(H * d)), got(size_t(H * d));
        listed_attention(q.data(), H, d, all.data(), int(all.size()), sink.data(), 0.1f, want.data());
        sparse_attention(q.data(), H, d, some.data(), int(some.size()), rows, sink.data(), 0.1f, got.data());
        for (size_t i = 0; i < got.size(); ++i)
          ASSERT_EQ(want[i], got[i]) << "H " << H << " d " << d << " n_encoded " << n_encoded << " at " << i;
      }
    }
  }
}

TEST(AccumulateWeightedRows, VariantsMatchTheReferenceBitForBit) {
  set_isa_limit(cpu_isa());
  std::mt19937 rng(6);
  std::normal_distribution<float> nd;
  for (int heads : {1, 3, 4, 9})
    for (int d : {1, 15, 16, 40, 64, 128, 200, 512})
      for (int n : {1, 7, 300}) {
        const int64_t w_stride = n + 5;  // rows of a wider score matrix
        std::vector<float> w(size_t(heads * w_stride)), rows(size_t(n * d)), want(size_t(heads * d) + 1), got;
        for (float& v : w) v = nd(rng);
        for (float& v : rows) v = nd(rng);
        for (float& v : want) v = nd(rng);
        got = want;
        accumulate_weighted_rows_ref(w.data(), w_stride, heads, n, rows.data(), d, want.data());
        accumulate_weighted_rows(w.data(), w_stride, heads, n, rows.data(), d, got.data());
        for (size_t k = 0; k < want.size(); ++k)
          ASSERT_EQ(want[k], got[k]) << "heads " << heads << " d " << d << " n " << n << " at " << k;
      }
}

}  // namespace
}  // namespace dsv4
