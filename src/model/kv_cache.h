// What one sequence keeps between forward calls, per layer (v4-architecture.md §4.1), in FP32:
//   window      ring of the last window_size KV rows, slot = position % window_size
//   entries     compressed KV entries (ratio 4 or 128), entry c pools tokens c·r … c·r+r−1
//   index_keys  the lightning indexer's compressed keys (ratio 4 only)
//   compressor  raw per-token inputs of the blocks not yet pooled
// The model defines this layout and appends to it; the caller owns the cache and its lifetime.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"

namespace dsv4 {

struct CompressorState {
  int ratio = 0;
  int width = 0;             // coff · d channels per slot (coff = 2 with the ratio-4 overlap)
  std::vector<float> kv;     // [coff·ratio, width]: with overlap, slots [0, r) hold the previous block and
  std::vector<float> score;  //   [r, 2r) the current one; score −inf marks an empty slot
  void reset();
};

struct LayerState {
  int64_t next_pos = 0;       // the position the next call must start at
  std::vector<float> window;  // [window_size, head_dim]
  std::vector<float> entries;     // [capacity / ratio, head_dim]
  std::vector<float> index_keys;  // [capacity / 4, index_head_dim]
  CompressorState compressor;
  CompressorState index_compressor;
  void reset();
};

struct KvCache {
  int64_t capacity = 0;            // most positions a sequence may reach
  std::vector<LayerState> layers;  // by layer id: main blocks, then MTP blocks
  void reset();                    // start a new sequence (clears positions and compressor state)
  int64_t allocated_bytes() const;
};

KvCache make_kv_cache(const ModelConfig& c, int64_t capacity);

// The part of a sequence's state that later tokens overwrite — positions, window rings, compressor
// state. With the append-only compressed entries and indexer keys it is enough to resume the sequence
// at the position it was taken: entries past that point are rewritten before any query reads them.
struct KvSnapshot {
  struct Layer {
    int64_t next_pos = 0;
    std::vector<float> window;
    CompressorState compressor, index_compressor;
  };
  std::vector<Layer> layers;
};
KvSnapshot take_snapshot(const KvCache& cache);  // copies rings and compressor state
void restore_snapshot(KvCache& cache, const KvSnapshot& s);

// Bytes make_kv_cache(c, capacity) allocates when every stored element takes `elem_bytes` (compressor
// state always FP32), split by kind.
struct KvFootprint {
  int64_t window = 0, entries = 0, index_keys = 0, compressor_state = 0;
  int64_t total() const { return window + entries + index_keys + compressor_state; }
};
KvFootprint kv_footprint(const ModelConfig& c, int64_t capacity, int elem_bytes);

}  // namespace dsv4
