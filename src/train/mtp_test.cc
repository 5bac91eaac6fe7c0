// FP64 finite-difference check of the MTP block and its weighted loss: every MTP parameter, the shared
// embedding and head, and the main model's streams that feed it.
#include "train/mtp.h"

#include <gtest/gtest.h>

#include "kernels/rope.h"
#include "train/grad_check.h"

namespace dsv4::train {
namespace {

TEST(MtpGrad, BlockHeadAndWeightedLoss) {
  std::mt19937_64 rng(1);
  const BlockDims<double> b = small_block(/*ratio=*/0, /*hash=*/false);
  const int64_t n = 7, V = 11, D = 8;
  MtpParams<double> p, g;
  p.resize(b);
  g.resize(b);
  randomize(p, rng, 0.5);
  p.block.hc_attn.scale = p.block.hc_ffn.scale = {0.5, 0.5, 0.5};
  std::vector<double> embed = random_vector(size_t(V * D), rng), head = random_vector(size_t(V * D), rng),
                      x_main = random_vector(size_t(n * b.hc.hc_dim()), rng);
  const std::vector<int32_t> tokens = {3, 1, 4, 1, 5, 9, 2, 6, 5};  // a sequence of n + 2 tokens
  std::vector<int32_t> next_ids(static_cast<size_t>(n)), targets(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) {
    next_ids[size_t(t)] = tokens[size_t(t + 1)];
    targets[size_t(t)] = t + 2 < int64_t(tokens.size()) - 1 ? tokens[size_t(t + 2)] : -1;  // last one ignored
  }
  const std::vector<float> freqs = rope_frequencies({4, 10000, 0, 1, 32, 1});
  const double lambda = 0.3;
  BlockInputs in;
  MtpSaved<double> s;
  mtp_forward(b, p, embed.data(), head.data(), V, freqs, x_main.data(), next_ids.data(), targets.data(), n, lambda,
              in, s);
  const MoeRouting routing = s.block.moe.routing;
  in.frozen_routing = &routing;
  auto loss = [&] {
    return mtp_forward(b, p, embed.data(), head.data(), V, freqs, x_main.data(), next_ids.data(), targets.data(), n,
                       lambda, in, s);
  };
  const double l0 = loss();
  EXPECT_GT(l0, 0.0);
  std::vector<double> dx(x_main.size(), 0.0), dembed(embed.size(), 0.0), dhead(head.size(), 0.0);
  mtp_backward(b, p, embed.data(), head.data(), V, freqs, x_main.data(), next_ids.data(), targets.data(), n, lambda,
               s, dx.data(), dembed.data(), dhead.data(), g);
  std::vector<GradCheckTensor> t = param_tensors(p, g, "mtp.0.");
  t.push_back({"x_main", &x_main, &dx});
  t.push_back({"embed", &embed, &dembed});
  t.push_back({"head", &head, &dhead});
  expect_passes(grad_check(loss, t, 24));
}

}  // namespace
}  // namespace dsv4::train
