// What one sequence keeps between forward calls, per layer (v4-architecture.md §4.1), in the storage
// format chosen at run time (kv_rows.h: FP32 by default, BF16 as the reference, or the deployed
// FP8 nope + BF16 RoPE with FP4 / FP8 indexer keys):
//   window      ring of the last window_size KV rows, slot = position % window_size
//   entries     compressed KV entries (ratio 4 or 128), entry c pools tokens c·r … c·r+r−1
//   index_keys  the lightning indexer's compressed keys (ratio 4 only)
//   compressor  raw per-token inputs of the blocks not yet pooled
// The model defines this layout and appends to it; the caller owns the cache and its lifetime.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"
#include "model/kv_rows.h"

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
  KvRows window;      // [window_size, head_dim]
  KvRows entries;     // [capacity / ratio, head_dim]
  KvRows index_keys;  // [capacity / 4, index_head_dim]
  CompressorState compressor;
  CompressorState index_compressor;
  void reset();
};

struct KvCache {
  int64_t capacity = 0;            // most positions a sequence may reach
  KvFormat format;
  std::vector<LayerState> layers;  // by layer id: main blocks, then MTP blocks
  void reset();                    // start a new sequence (clears positions and compressor state)
  int64_t allocated_bytes() const;  // every buffer's allocation (vector capacity), nothing else
};

KvCache make_kv_cache(const ModelConfig& c, int64_t capacity, KvFormat format = {});

// The part of a sequence's state that later tokens overwrite — positions, window rings, compressor
// state. With the append-only compressed entries and indexer keys it is enough to resume the sequence
// at the position it was taken: entries past that point are rewritten before any query reads them.
struct KvSnapshot {
  struct Layer {
    int64_t next_pos = 0;
    KvRows window;
    CompressorState compressor, index_compressor;
  };
  std::vector<Layer> layers;
};
KvSnapshot take_snapshot(const KvCache& cache);  // copies rings and compressor state
void restore_snapshot(KvCache& cache, const KvSnapshot& s);

// Bytes make_kv_cache(c, capacity, format) allocates, split by kind (compressor state is always FP32),
// computed from the shapes alone. `scales` is the part of window/entries/index_keys that is block scales.
struct KvFootprint {
  int64_t window = 0, entries = 0, index_keys = 0, compressor_state = 0;
  int64_t scales = 0;
  int64_t total() const { return window + entries + index_keys + compressor_state; }
};
KvFootprint kv_footprint(const ModelConfig& c, int64_t capacity, KvFormat format);

// What each further token adds, amortized over blocks (v4-architecture.md §4.2):
// Σ_layers entry_bytes / ratio (+ key_bytes / 4 for ratio 4). `with_scales` false counts codes only.
double kv_bytes_per_token(const ModelConfig& c, KvFormat format, bool with_scales = true);

}  // namespace dsv4
