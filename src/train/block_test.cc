// FP64 finite-difference checks of whole blocks (mHC → norm → attention → mHC → norm → MoE), one per
// layer kind: SWA with top-k MoE, CSA with hash-routed MoE, HCA with top-k MoE.
#include "train/block.h"

#include <gtest/gtest.h>

#include "kernels/rope.h"
#include "train/grad_check.h"

namespace dsv4::train {
namespace {

void block_check(int ratio, bool hash, int64_t n, int coords, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const BlockDims<double> b = small_block(ratio, hash);
  BlockParams<double> p, g;
  p.resize(b);
  g.resize(b);
  randomize(p, rng, 0.5);
  for (auto* s : {&p.hc_attn.scale, &p.hc_ffn.scale}) *s = {0.5, 0.5, 0.5};
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) tokens[size_t(t)] = int32_t((t * 7 + 3) % 5);
  const std::vector<int32_t> tid2eid = {0, 1, 2, 3, 3, 1, 1, 0, 2, 0};  // [5 tokens, 2]
  BlockInputs in;
  in.tokens = tokens.data();
  in.tid2eid = tid2eid.data();
  const std::vector<float> freqs = rope_frequencies({4, ratio ? 160000.0 : 10000.0, ratio ? 65536 : 0, 16, 32, 1});
  const std::vector<double> x0 = random_vector(size_t(n * b.hc.hc_dim()), rng);
  std::vector<double> x = x0, r = random_vector(x0.size(), rng);
  // Long (HCA) sequences: only the last 16 tokens' outputs enter the loss, which keeps |loss| and so the
  // finite differences' rounding noise (ε·|L|/h) small; those tokens read every compressed entry.
  if (n > 64) std::fill(r.begin(), r.end() - 16 * b.hc.hc_dim(), 0.0);
  BlockSaved<double> s;
  block_forward(b, p, freqs, x.data(), n, in, s);
  const MoeRouting routing = s.moe.routing;
  in.frozen_routing = &routing;
  std::vector<double> xin = x0;
  auto loss = [&] {
    x = xin;
    block_forward(b, p, freqs, x.data(), n, in, s);
    return project(r, x);
  };
  loss();
  std::vector<double> dx = r;
  block_backward(b, p, freqs, n, s, dx.data(), g);
  std::vector<GradCheckTensor> t = param_tensors(p, g);
  t.push_back({"x", &xin, &dx});
  expect_passes(grad_check(loss, t, coords));
}

TEST(BlockGrad, SwaBlockWithTopKMoe) { block_check(0, false, 9, 24, 1); }
TEST(BlockGrad, CsaBlockWithHashMoe) { block_check(4, true, 13, 24, 2); }
TEST(BlockGrad, HcaBlockWithTopKMoe) { block_check(128, false, 128 + 5, 6, 3); }

}  // namespace
}  // namespace dsv4::train
