// What one layer's forward pass needs besides its weights and state: the call's positions and tokens,
// the RoPE table of the layer's kind, scratch memory and the optional decision hook. Internal to model/.
#pragma once

#include <cstdint>
#include <vector>

#include "base/arena.h"
#include "model/config.h"
#include "model/decisions.h"

namespace dsv4 {

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

}  // namespace dsv4
