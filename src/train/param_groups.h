// Which optimizer trains which tensor (training.md §1.4, V4 report §2.4): AdamW for the embedding, the
// head, every RMSNorm weight, the mHC static biases (hc_*_base) and gating factors (hc_*_scale), the
// attention sinks and the compressors' positional biases (ape); Muon for every hidden matrix, including
// the mHC dynamic projections hc_*_fn and the router gate (V4 does not list them under AdamW). The gate's
// selection bias is not trained by gradients (aux-loss-free update, balance.h); tid2eid tables and block
// scales are not parameters.
#pragma once

#include <cstdint>
#include <string>

#include "model/config.h"
#include "model/tensor_list.h"

namespace dsv4 {

enum class OptimizerKind : uint8_t {
  kAdamW,
  kMuon,
  kBiasUpdate,  // ffn.gate.bias: the aux-loss-free balancing rule, never a gradient step
  kNone,        // not a trainable parameter (block scales, tid2eid)
};
const char* optimizer_kind_name(OptimizerKind k);

struct ParamGroup {
  OptimizerKind kind = OptimizerKind::kNone;
  // Muon: the tensor is n_matrices independent [rows, cols] matrices stacked along its rows, each
  // orthogonalised on its own. 1 except wo_a, which is o_groups separate per-group projections.
  int64_t n_matrices = 1;
  int64_t rows = 0, cols = 0;
  bool weight_decay = true;  // false for gains and biases (norm weights, hc base/scale, sinks, ape)
};

// Every tensor of expected_tensors(c) has a group; a name the table does not know is a bug (CHECK).
ParamGroup param_group(const TensorSpec& spec, const ModelConfig& c);

}  // namespace dsv4
