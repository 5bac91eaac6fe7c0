#include "model/model.h"

#include <filesystem>
#include <span>

#include "base/check.h"
#include "base/float_formats.h"
#include "kernels/matmul.h"
#include "kernels/rmsnorm.h"
#include "kernels/rope.h"
#include "model/block.h"
#include "model/hc.h"

namespace dsv4 {

Result<std::unique_ptr<Model>> Model::load(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool is_dir = fs::is_directory(path, ec);
  const std::string dir = is_dir ? path : fs::path(path).parent_path().string();
  std::unique_ptr<Model> m(new Model());
  DSV4_ASSIGN_OR_RETURN(m->config_, load_model_config(path));
  DSV4_ASSIGN_OR_RETURN(m->checkpoint_, Checkpoint::open(dir.empty() ? "." : dir));
  DSV4_ASSIGN_OR_RETURN(m->weights_, bind_weights(m->checkpoint_, m->config_));
  const ModelConfig& c = m->config_;
  m->rope_swa_ = rope_frequencies({c.rope_head_dim, c.rope_theta, 0, 1, c.beta_fast, c.beta_slow});
  m->rope_compressed_ = rope_frequencies(
      {c.rope_head_dim, c.compress_rope_theta, c.original_seq_len, c.rope_factor, c.beta_fast, c.beta_slow});
  return m;
}

const BlockWeights& Model::block_weights(int layer) const {
  return layer < config_.n_layers ? weights_.layers[size_t(layer)]
                                  : weights_.mtp[size_t(layer - config_.n_layers)].block;
}

void Model::embed(const int32_t* ids, int64_t n, float* out) const {
  const ModelConfig& c = config_;
  for (int64_t t = 0; t < n; ++t) {
    DSV4_CHECK(0 <= ids[t] && ids[t] < c.vocab_size);
    const uint16_t* row = weights_.embed + int64_t(ids[t]) * c.dim;
    for (int k = 0; k < c.hc_mult; ++k)
      for (int d = 0; d < c.dim; ++d) out[(t * c.hc_mult + k) * c.dim + d] = bf16_to_f32(row[d]);
  }
}

LayerContext Model::layer_context(int layer, const int32_t* ids, int64_t n, int64_t start_pos,
                                  const LayerState& state, DecisionHook* hook) {
  DSV4_CHECK(0 <= layer && layer < config_.n_total_layers());
  DSV4_CHECK(start_pos == state.next_pos);
  DSV4_CHECK(n >= 1);
  DSV4_CHECK(config_.ratio(layer) == 0 || state.entries.rows >= (start_pos + n) / config_.ratio(layer));
  return {config_, layer, ids, n, start_pos, config_.ratio(layer) ? rope_compressed_ : rope_swa_, arena_, hook};
}

void Model::block(int layer, const int32_t* ids, int64_t n, int64_t start_pos, LayerState& state, float* x,
                  DecisionHook* hook) {
  arena_.reset();
  const LayerContext ctx = layer_context(layer, ids, n, start_pos, state, hook);
  LayerState* const states[1] = {&state};
  block_forward({{&ctx, 1}, states, n}, block_weights(layer), x);
}

void Model::forward_blocks(const int32_t* ids, int64_t n, int64_t start_pos, KvCache& cache, float* x,
                           DecisionHook* hook) {
  DSV4_CHECK(start_pos + n <= cache.capacity);
  for (int i = 0; i < config_.n_layers; ++i) block(i, ids, n, start_pos, cache.layers[size_t(i)], x, hook);
}

void Model::decode(std::span<const int32_t> ids, std::span<KvCache* const> caches, float* out) {
  DSV4_CHECK(ids.size() == caches.size() && !ids.empty());
  const int64_t n = int64_t(ids.size());
  for (size_t i = 0; i < caches.size(); ++i) {
    DSV4_CHECK(caches[i]->layers.front().next_pos < caches[i]->capacity);
    for (size_t j = 0; j < i; ++j) DSV4_CHECK(caches[j] != caches[i]);
  }
  std::vector<float> x(size_t(n * config_.hc_dim()));
  embed(ids.data(), n, x.data());
  std::vector<LayerContext> seqs;
  std::vector<LayerState*> states(static_cast<size_t>(n));
  seqs.reserve(size_t(n));
  for (int layer = 0; layer < config_.n_layers; ++layer) {
    arena_.reset();
    seqs.clear();
    for (int64_t i = 0; i < n; ++i) {
      LayerState& state = caches[size_t(i)]->layers[size_t(layer)];
      states[size_t(i)] = &state;
      seqs.push_back(layer_context(layer, &ids[size_t(i)], 1, state.next_pos, state, nullptr));
    }
    block_forward({seqs, states, n}, block_weights(layer), x.data());
  }
  logits(x.data(), n, out);
}

void Model::logits(const float* x, int64_t n, float* out) {
  arena_.reset();
  float* y = arena_.alloc<float>(size_t(n * config_.dim));
  hc_head(config_, weights_.hc_head, x, n, y, arena_);
  for (int64_t t = 0; t < n; ++t)
    rmsnorm(y + t * config_.dim, weights_.norm.data(), config_.dim, config_.norm_eps, y + t * config_.dim);
  matmul(weights_.head, y, n, out);
}

void Model::mtp_logits(int m, const float* h, const int32_t* next_ids, int64_t n, int64_t start_pos,
                       KvCache& cache, float* out, DecisionHook* hook) {
  const ModelConfig& c = config_;
  DSV4_CHECK(0 <= m && m < c.n_mtp_layers);
  const MtpWeights& w = weights_.mtp[size_t(m)];
  const int layer = c.n_layers + m;
  const int64_t D = c.dim, hc = c.hc_mult;
  // The block's own scratch comes from the arena; these inputs must outlive its reset, so they are
  // sized once here.
  std::vector<float> e(static_cast<size_t>(n * hc * D)), ep(size_t(n * D)), hp(size_t(n * hc * D)), y(size_t(n * D));
  embed(next_ids, n, e.data());  // hc copies; the first is used
  for (int64_t t = 0; t < n; ++t)
    rmsnorm(&e[size_t(t * hc * D)], w.enorm.data(), D, c.norm_eps, &ep[size_t(t * D)]);
  std::vector<float> en(ep);
  matmul(w.e_proj, en.data(), n, ep.data());
  for (int64_t r = 0; r < n * hc; ++r) rmsnorm(h + r * D, w.hnorm.data(), D, c.norm_eps, &e[size_t(r * D)]);
  matmul(w.h_proj, e.data(), n * hc, hp.data());
  for (int64_t t = 0; t < n; ++t)
    for (int64_t k = 0; k < hc; ++k)
      for (int64_t d = 0; d < D; ++d) hp[size_t((t * hc + k) * D + d)] += ep[size_t(t * D + d)];
  block(layer, next_ids, n, start_pos, cache.layers[size_t(layer)], hp.data(), hook);
  hc_head(c, w.hc_head, hp.data(), n, y.data(), arena_);
  for (int64_t t = 0; t < n; ++t) rmsnorm(&y[size_t(t * D)], w.norm.data(), D, c.norm_eps, &y[size_t(t * D)]);
  matmul(weights_.head, y.data(), n, out);
}

void Model::forward(const int32_t* ids, int64_t n, int64_t start_pos, KvCache& cache, float* out,
                    DecisionHook* hook) {
  std::vector<float> x(size_t(n * config_.hc_dim()));
  embed(ids, n, x.data());
  forward_blocks(ids, n, start_pos, cache, x.data(), hook);
  logits(x.data(), n, out);
}

}  // namespace dsv4
