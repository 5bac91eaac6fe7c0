// make-synthetic checkpoints (model/synthetic.h) for the golden configs: they load (every tensor is
// validated against the config), run with O(1) activations and sane logits, and are byte-identical for a
// seed whatever the thread count.
#include "model/synthetic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "base/float_formats.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "test_util.h"

namespace dsv4 {
namespace {

namespace fs = std::filesystem;

std::string config_of(const std::string& golden) { return testing::golden_case(golden) + "/config.json"; }

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

double rms(const float* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(x[i]) * x[i];
  return std::sqrt(s / double(n));
}

class Synthetic : public ::testing::TestWithParam<const char*> {};

// ~40 tokens block by block: every block's output streams and the logits stay finite and O(1), as the
// reference's golden generator aimed for (block-output RMS 3–6, logit RMS ~2.5).
TEST_P(Synthetic, LoadsAndRunsWithBoundedActivations) {
  testing::TempDir dir;
  ThreadPool pool(2);
  ASSERT_TRUE(write_synthetic_model(config_of(GetParam()), dir.str(), 7, pool).is_ok());
  auto loaded = Model::load(dir.str());
  ASSERT_TRUE(loaded) << loaded.status().message();
  Model& m = *loaded.value();
  const ModelConfig& c = m.config();
  const int64_t n = 40;
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) ids[size_t(t)] = int32_t((t * 131 + 7) % c.vocab_size);
  KvCache cache = m.new_cache(n);
  std::vector<float> x(static_cast<size_t>(n * c.hc_dim()));
  m.embed(ids.data(), n, x.data());
  for (int layer = 0; layer < c.n_layers; ++layer) {
    m.block(layer, ids.data(), n, 0, cache.layers[size_t(layer)], x.data());
    const double r = rms(x.data(), int64_t(x.size()));
    EXPECT_TRUE(std::isfinite(r) && r > 0.3 && r < 30) << "block " << layer << " output RMS " << r;
  }
  std::vector<float> logits(static_cast<size_t>(n * c.vocab_size));
  m.logits(x.data(), n, logits.data());
  const double r = rms(logits.data(), int64_t(logits.size()));
  EXPECT_TRUE(std::isfinite(r) && r > 0.1 && r < 100) << "logit RMS " << r;
}

TEST_P(Synthetic, SameSeedSameBytesWhateverTheThreads) {
  testing::TempDir dir;
  ThreadPool one(1), two(2);
  const std::string cfg = config_of(GetParam());
  ASSERT_TRUE(write_synthetic_model(cfg, (dir.path() / "a").string(), 3, one).is_ok());
  ASSERT_TRUE(write_synthetic_model(cfg, (dir.path() / "b").string(), 3, two).is_ok());
  ASSERT_TRUE(write_synthetic_model(cfg, (dir.path() / "c").string(), 4, two).is_ok());
  const std::string a = file_bytes(dir.path() / "a/model.safetensors");
  EXPECT_GT(a.size(), 1000000u);
  EXPECT_TRUE(a == file_bytes(dir.path() / "b/model.safetensors"));
  EXPECT_FALSE(a == file_bytes(dir.path() / "c/model.safetensors"));
  EXPECT_EQ(file_bytes(dir.path() / "a/config.json"), file_bytes(cfg));
}

INSTANTIATE_TEST_SUITE_P(Golden, Synthetic, ::testing::Values("tiny-fp8", "tiny-bf16"));

// The formats in detail on the FP8/FP4 config: power-of-two scales that fit each block's amax, distinct
// hash-routing experts per row, the mHC bases and the fixed vectors.
TEST(SyntheticFormats, ScalesFitTheirBlocksAndTablesAreWellFormed) {
  testing::TempDir dir;
  ThreadPool pool(2);
  ASSERT_TRUE(write_synthetic_model(config_of("tiny-fp8"), dir.str(), 1, pool).is_ok());
  auto f = SafetensorsFile::open(dir.str() + "/model.safetensors");
  ASSERT_TRUE(f) << f.status().message();
  // FP8: every 128×128 block reaches at least half the e4m3 range, so the scale is the smallest that fits.
  const TensorView* w = f->find("layers.1.attn.wo_b.weight");
  const TensorView* ws = f->find("layers.1.attn.wo_b.scale");
  ASSERT_TRUE(w && ws);
  EXPECT_EQ(w->dtype, DType::kF8E4M3);
  const int64_t in = w->dim(1);
  for (int64_t br = 0; br < ws->dim(0); ++br)
    for (int64_t bc = 0; bc < ws->dim(1); ++bc) {
      float amax = 0;
      for (int64_t r = br * 128; r < std::min(w->dim(0), br * 128 + 128); ++r)
        for (int64_t k = bc * 128; k < std::min(in, bc * 128 + 128); ++k)
          amax = std::max(amax, std::fabs(e4m3_to_f32(w->data[r * in + k])));
      EXPECT_GE(amax, 224.0f) << br << "," << bc;
      EXPECT_LE(amax, 448.0f);
    }
  // FP4: amax / scale lies in (3, 6], so every 32-wide block holds a code of magnitude 3 or more.
  const TensorView* e = f->find("layers.1.ffn.experts.3.w2.weight");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->dtype, DType::kI8);
  for (int64_t b = 0; b < e->nbytes / 16; ++b) {
    int top = 0;
    for (int j = 0; j < 16; ++j)
      for (int nib : {e->data[b * 16 + j] & 0xf, e->data[b * 16 + j] >> 4}) top = std::max(top, nib & 7);
    EXPECT_GE(top, 5) << "block " << b;  // codes 5, 6, 7 = magnitudes 3, 4, 6
  }
  const TensorView* ids = f->find("layers.0.ffn.gate.tid2eid");
  ASSERT_TRUE(ids);
  const auto* id = reinterpret_cast<const int64_t*>(ids->data);
  std::vector<int> uses(12);
  for (int64_t r = 0; r < ids->dim(0); ++r)
    for (int64_t j = 0; j < ids->dim(1); ++j) {
      ASSERT_TRUE(id[r * 4 + j] >= 0 && id[r * 4 + j] < 12);
      uses[size_t(id[r * 4 + j])]++;
      for (int64_t k = 0; k < j; ++k) EXPECT_NE(id[r * 4 + j], id[r * 4 + k]) << "row " << r;
    }
  for (int u : uses) EXPECT_GT(u, 0);
  const auto* base = reinterpret_cast<const float*>(f->find("layers.2.hc_ffn_base")->data);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(base[i], i >= 8 && (i - 8) % 5 == 0 ? 4.0f : 0.0f) << i;
  EXPECT_EQ(bf16_to_f32(reinterpret_cast<const uint16_t*>(f->find("norm.weight")->data)[5]), 1.0f);
  EXPECT_EQ(reinterpret_cast<const float*>(f->find("layers.3.attn.attn_sink")->data)[1], 0.0f);
  EXPECT_EQ(f->metadata().at("seed"), "1");
}

}  // namespace
}  // namespace dsv4
