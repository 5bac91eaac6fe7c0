// The tensors an official DeepSeek-V4 checkpoint holds for a given config (v4-architecture.md §2.2):
// names, storage dtypes and shapes. One list serves three purposes: validating a checkpoint before the
// first token, counting parameters and bytes (`dsv4 inspect`), and writing synthetic checkpoints.
#pragma once

#include <string>
#include <vector>

#include "model/config.h"
#include "tensor/tensor.h"

namespace dsv4 {

enum class TensorRole : uint8_t {
  kEmbedding,     // embed.weight
  kRoutedExpert,  // ffn.experts.E.*: only num_experts_per_tok of them are active per token
  kIndex,         // integer tables (tid2eid): not parameters
  kScale,         // E8M0 block scales: not parameters
  kOther,
};

struct TensorSpec {
  std::string name;
  DType dtype;
  Shape shape;
  TensorRole role = TensorRole::kOther;
  int layer = -1;       // block id (MTP blocks: n_layers + m), -1 for global tensors
  bool packed_fp4 = false;  // I8 holding two e2m1 codes per byte: logical elements = 2 × stored
  bool mtp = false;

  int64_t stored_bytes() const;
  int64_t parameters() const;  // logical weight elements; 0 for scales and integer tables
};

std::vector<TensorSpec> expected_tensors(const ModelConfig& c);

}  // namespace dsv4
