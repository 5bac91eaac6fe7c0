// What one token costs a forward pass of the main layers (not MTP), counted from the tensor list; the
// figures behind `dsv4 bench`'s achieved GB/s and GFLOP/s.
#pragma once

#include "model/config.h"

namespace dsv4 {

struct TokenCost {
  // Weight bytes a decode token reads: every tensor of the main layers and the head except routed
  // experts, which count at num_experts_per_tok / n_routed_experts of their bytes (weights and scales),
  // the embedding (one row) and tid2eid (one row). KV cache and activations are not counted.
  double decode_bytes = 0;
  // Multiply-adds of the matrix products a token runs before the head: every 2-D weight (the linears and
  // the mHC `*_fn` projections) except the embedding, a lookup; routed experts at k / E. Attention scores
  // and pooling are not counted.
  double linear_macs = 0;
  double head_macs = 0;  // the head: a prefill runs it for its last token only
};

TokenCost token_cost(const ModelConfig& c);

}  // namespace dsv4
