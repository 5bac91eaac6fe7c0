// What one layer's forward pass needs besides its weights and state: the call's positions and tokens,
// the RoPE table of the layer's kind, scratch memory and the optional decision hook. Internal to model/.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/arena.h"
#include "model/config.h"
#include "model/decisions.h"
#include "model/kv_cache.h"

namespace dsv4 {

// One sequence's share of a layer call: n consecutive positions from start_pos.
struct LayerContext {
  const ModelConfig& config;
  int layer;
  const int32_t* ids;  // [n] token ids of the call
  int64_t n;           // tokens in this call
  int64_t start_pos;   // position of the first one
  const std::vector<float>& rope;  // frequencies: plain for ratio-0 layers, YaRN for compressed ones
  Arena& arena;
  DecisionHook* hook;  // usually null
};

// A layer call over one or more sequences, each with its own positions and LayerState; their rows lie one
// after another in the activations (sequence i's rows after those of sequences < i). Products with the
// layer's weights run once over all rows — that is what batching buys in weight-bound decode — and
// everything that reads or writes a sequence's state runs per sequence. A plain call is a batch of one.
struct LayerBatch {
  std::span<const LayerContext> seqs;
  std::span<LayerState* const> states;  // states[i] belongs to seqs[i]
  int64_t rows;                         // Σ seqs[i].n

  const ModelConfig& config() const { return seqs.front().config; }
  int layer() const { return seqs.front().layer; }
  Arena& arena() const { return seqs.front().arena; }
};

}  // namespace dsv4
