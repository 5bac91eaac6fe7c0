// FP64 finite-difference checks of the attention pieces: the compressor (ratio 4 with overlap, ratio 128),
// sparse attention with sink, the grouped output projection, and the whole attention sub-block for SWA,
// CSA (all eligible entries, and given frozen-indexer picks) and HCA.
#include "train/attention.h"

#include <gtest/gtest.h>

#include "kernels/rope.h"
#include "train/grad_check.h"

namespace dsv4::train {
namespace {

std::vector<float> freqs(int rope_dim) { return rope_frequencies({rope_dim, 160000, 65536, 16, 32, 1}); }

void compressor_check(int ratio, int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const CompressorDims c{6, 8, 4, ratio, 1e-6};
  CompressorParams<double> p, g;
  p.resize(c);
  g.resize(c);
  randomize(p, rng, 0.5);
  std::vector<double> x = random_vector(size_t(n * c.dim), rng);
  const int64_t n_e = compressor_entries<double>(c, n);
  ASSERT_GE(n_e, 2);
  std::vector<double> r = random_vector(size_t(n_e * c.d), rng), e(size_t(n_e * c.d));
  CompressorSaved<double> s;
  const std::vector<float> f = freqs(c.rope_dim);
  auto loss = [&] {
    compressor_forward(c, p, f, x.data(), n, e.data(), s);
    return project(r, e);
  };
  loss();
  std::vector<double> dx(x.size(), 0.0);
  compressor_backward(c, p, f, x.data(), n, s, r.data(), dx.data(), g);
  std::vector<GradCheckTensor> t = param_tensors(p, g);
  t.push_back({"x", &x, &dx});
  expect_passes(grad_check(loss, t));
}

TEST(AttentionGrad, CompressorRatio4WithOverlap) { compressor_check(4, 14, 1); }
TEST(AttentionGrad, CompressorRatio128) { compressor_check(128, 2 * 128 + 5, 2); }

TEST(AttentionGrad, SparseAttentionWithSink) {
  std::mt19937_64 rng(3);
  const int64_t n = 5, hd = 6, n_keys = 7;
  const int H = 3;
  IndexLists l;
  l.offsets = {0};
  for (int64_t t = 0; t < n; ++t) {  // a varied list per query, with a repeated key
    for (int64_t j = 0; j <= t; ++j) l.keys.push_back((j * 3 + t) % n_keys);
    l.keys.push_back(t % n_keys);
    l.offsets.push_back(int64_t(l.keys.size()));
  }
  std::vector<double> q = random_vector(size_t(n * H * hd), rng), keys = random_vector(size_t(n_keys * hd), rng),
                      sink = random_vector(size_t(H), rng), r = random_vector(size_t(n * H * hd), rng),
                      o(size_t(n * H * hd)), probs;
  const double scale = 0.4;
  auto loss = [&] {
    sparse_attention_forward(q.data(), n, H, hd, keys.data(), l, sink.data(), scale, o.data(), probs);
    return project(r, o);
  };
  loss();
  std::vector<double> dq(q.size(), 0.0), dk(keys.size(), 0.0), ds(sink.size(), 0.0);
  sparse_attention_backward(q.data(), n, H, hd, keys.data(), l, scale, probs, r.data(), dq.data(), dk.data(), ds.data());
  expect_passes(grad_check(loss, {{"q", &q, &dq}, {"keys", &keys, &dk}, {"sink", &sink, &ds}}));
}

AttentionDims small_dims(int ratio) {
  AttentionDims a;
  a.dim = 8;
  a.n_heads = 4;
  a.head_dim = 8;
  a.rope_dim = 4;
  a.q_lora_rank = 6;
  a.o_groups = 2;
  a.o_lora_rank = 5;
  a.window = 4;
  a.ratio = ratio;
  return a;
}

TEST(AttentionGrad, GroupedOutputProjection) {
  std::mt19937_64 rng(4);
  const AttentionDims a = small_dims(0);
  const int64_t n = 3, Hd = a.n_heads * a.head_dim, GR = a.o_groups * a.o_lora_rank;
  std::vector<double> o = random_vector(size_t(n * Hd), rng), wo_a = random_vector(size_t(GR * a.group_width()), rng),
                      wo_b = random_vector(size_t(a.dim * GR), rng), r = random_vector(size_t(n * a.dim), rng),
                      u(size_t(n * GR)), out(size_t(n * a.dim));
  auto loss = [&] {
    output_projection_forward(a, wo_a.data(), wo_b.data(), o.data(), n, u.data(), out.data());
    return project(r, out);
  };
  loss();
  std::vector<double> d_o(o.size(), 0.0), dwa(wo_a.size(), 0.0), dwb(wo_b.size(), 0.0);
  output_projection_backward(a, wo_a.data(), wo_b.data(), o.data(), n, u.data(), r.data(), d_o.data(), dwa.data(),
                             dwb.data());
  expect_passes(grad_check(loss, {{"o", &o, &d_o}, {"wo_a", &wo_a, &dwa}, {"wo_b", &wo_b, &dwb}}));
}

// `tail`: only the last `tail` tokens' outputs enter the loss (0 = all). A long HCA sequence otherwise
// makes |loss| large enough that the finite differences' rounding noise (ε·|L|/h) shows.
void attention_check(int ratio, int64_t n, const AttentionInputs& in, uint64_t seed, int64_t tail = 0,
                     int coords = 48) {
  std::mt19937_64 rng(seed);
  const AttentionDims a = small_dims(ratio);
  AttentionParams<double> p, g;
  p.resize(a);
  g.resize(a);
  randomize(p, rng, 0.5);
  std::vector<double> x = random_vector(size_t(n * a.dim), rng), r = random_vector(size_t(n * a.dim), rng),
                      out(size_t(n * a.dim));
  if (tail) std::fill(r.begin(), r.end() - tail * a.dim, 0.0);
  const std::vector<float> f = freqs(a.rope_dim);
  AttentionSaved<double> s;
  auto loss = [&] {
    attention_forward(a, p, f, x.data(), n, in, out.data(), s);
    return project(r, out);
  };
  loss();
  if (ratio) { ASSERT_GE(s.keys.size(), size_t((n + 2) * a.head_dim)); }  // at least 2 compressed entries
  std::vector<double> dx(x.size(), 0.0);
  attention_backward(a, p, f, x.data(), n, s, r.data(), dx.data(), g);
  std::vector<GradCheckTensor> t = param_tensors(p, g);
  t.push_back({"x", &x, &dx});
  expect_passes(grad_check(loss, t, coords));
}

TEST(AttentionGrad, SlidingWindowLayer) { attention_check(0, 9, {}, 5); }
TEST(AttentionGrad, CsaLayerAllEligibleEntries) { attention_check(4, 14, {}, 6); }
TEST(AttentionGrad, CsaLayerWithFrozenIndexerPicks) {
  AttentionInputs in;
  for (int64_t t = 0; t < 14; ++t) {  // at most 2 of the eligible entries, latest first
    std::vector<int32_t> picks;
    for (int32_t c = int32_t((t + 1) / 4) - 1; c >= 0 && picks.size() < 2; --c) picks.push_back(c);
    in.picks.push_back(picks);
  }
  attention_check(4, 14, in, 7);
}
TEST(AttentionGrad, HcaLayer) { attention_check(128, 2 * 128 + 3, {}, 8, /*tail=*/16, /*coords=*/16); }

}  // namespace
}  // namespace dsv4::train
