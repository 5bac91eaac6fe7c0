#include "model/kv_cache.h"

#include <cmath>

namespace dsv4 {

namespace {
struct LayerShape {  // rows of one layer's buffers, elements of its compressor states
  int64_t window = 0, entries = 0, index_keys = 0, compressor = 0, index_compressor = 0;
};

// Slots × width of a compressor's state, per buffer (kv and score each).
int64_t compressor_elems(int ratio, int d) {
  const int coff = ratio == 4 ? 2 : 1;
  return int64_t(coff) * ratio * coff * d;
}

LayerShape layer_shape(const ModelConfig& c, int layer, int64_t capacity) {
  LayerShape s;
  const int r = c.ratio(layer);
  s.window = c.window_size;
  if (r) {
    s.entries = capacity / r;
    s.compressor = compressor_elems(r, c.head_dim);
  }
  if (r == 4) {
    s.index_keys = capacity / 4;
    s.index_compressor = compressor_elems(4, c.index_head_dim);
  }
  return s;
}

CompressorState make_compressor(int ratio, int d) {
  CompressorState s;
  s.ratio = ratio;
  s.width = (ratio == 4 ? 2 : 1) * d;
  s.kv.resize(size_t(compressor_elems(ratio, d)));
  s.score.resize(s.kv.size());
  s.kv.shrink_to_fit();
  s.score.shrink_to_fit();
  s.reset();
  return s;
}
}  // namespace

void CompressorState::reset() {
  std::fill(kv.begin(), kv.end(), 0.0f);
  std::fill(score.begin(), score.end(), -INFINITY);
}

void LayerState::reset() {
  next_pos = 0;
  compressor.reset();
  index_compressor.reset();
}

void KvCache::reset() {
  for (auto& l : layers) l.reset();
}

int64_t KvCache::allocated_bytes() const {
  int64_t n = 0;
  for (const auto& l : layers)
    n += l.window.allocated_bytes() + l.entries.allocated_bytes() + l.index_keys.allocated_bytes() +
         int64_t(sizeof(float)) * int64_t(l.compressor.kv.capacity() + l.compressor.score.capacity() +
                                          l.index_compressor.kv.capacity() + l.index_compressor.score.capacity());
  return n;
}

KvCache make_kv_cache(const ModelConfig& c, int64_t capacity, KvFormat format) {
  KvCache cache;
  cache.capacity = capacity;
  cache.format = format;
  const KvRowLayout main = kv_main_layout(format.rows, c.head_dim, c.rope_head_dim);
  const KvRowLayout key = kv_key_layout(format.index_keys, c.index_head_dim);
  for (int i = 0; i < c.n_total_layers(); ++i) {
    const LayerShape s = layer_shape(c, i, capacity);
    LayerState l;
    l.window = make_kv_rows(main, s.window);
    l.entries = make_kv_rows(main, s.entries);
    l.index_keys = make_kv_rows(key, s.index_keys);
    if (c.ratio(i)) l.compressor = make_compressor(c.ratio(i), c.head_dim);
    if (c.ratio(i) == 4) l.index_compressor = make_compressor(4, c.index_head_dim);
    cache.layers.push_back(std::move(l));
  }
  return cache;
}

KvSnapshot take_snapshot(const KvCache& cache) {
  KvSnapshot s;
  for (const LayerState& l : cache.layers) s.layers.push_back({l.next_pos, l.window, l.compressor, l.index_compressor});
  return s;
}

void restore_snapshot(KvCache& cache, const KvSnapshot& s) {
  for (size_t i = 0; i < cache.layers.size(); ++i) {
    LayerState& l = cache.layers[i];
    l.next_pos = s.layers[i].next_pos;
    l.window = s.layers[i].window;
    l.compressor = s.layers[i].compressor;
    l.index_compressor = s.layers[i].index_compressor;
  }
}

KvFootprint kv_footprint(const ModelConfig& c, int64_t capacity, KvFormat format) {
  const KvRowLayout main = kv_main_layout(format.rows, c.head_dim, c.rope_head_dim);
  const KvRowLayout key = kv_key_layout(format.index_keys, c.index_head_dim);
  KvFootprint f;
  for (int i = 0; i < c.n_total_layers(); ++i) {
    const LayerShape s = layer_shape(c, i, capacity);
    f.window += s.window * main.bytes();
    f.entries += s.entries * main.bytes();
    f.index_keys += key.table_bytes(s.index_keys);
    f.scales += (s.window + s.entries) * main.scale_bytes() + key.padded_rows(s.index_keys) * key.scale_bytes();
    f.compressor_state += 2 * (s.compressor + s.index_compressor) * int64_t(sizeof(float));
  }
  return f;
}

double kv_bytes_per_token(const ModelConfig& c, KvFormat format, bool with_scales) {
  const KvRowLayout main = kv_main_layout(format.rows, c.head_dim, c.rope_head_dim);
  const KvRowLayout key = kv_key_layout(format.index_keys, c.index_head_dim);
  const double entry = double(main.bytes() - (with_scales ? 0 : main.scale_bytes()));
  const double index_key = double(key.bytes() - (with_scales ? 0 : key.scale_bytes()));
  double b = 0;
  for (int i = 0; i < c.n_total_layers(); ++i) {
    const int r = c.ratio(i);
    if (r) b += entry / r;
    if (r == 4) b += index_key / 4;
  }
  return b;
}

}  // namespace dsv4
