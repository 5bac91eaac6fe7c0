#include "train/param_groups.h"

#include <string_view>

#include "base/check.h"

namespace dsv4 {

const char* optimizer_kind_name(OptimizerKind k) {
  switch (k) {
    case OptimizerKind::kAdamW: return "adamw";
    case OptimizerKind::kMuon: return "muon";
    case OptimizerKind::kBiasUpdate: return "bias_update";
    case OptimizerKind::kNone: return "none";
  }
  return "?";
}

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

ParamGroup adamw(bool decay) { return ParamGroup{OptimizerKind::kAdamW, 1, 0, 0, decay}; }

}  // namespace

ParamGroup param_group(const TensorSpec& spec, const ModelConfig& c) {
  const std::string_view name = spec.name;
  if (spec.role == TensorRole::kScale || spec.role == TensorRole::kIndex) return {};
  if (ends_with(name, "gate.bias")) return ParamGroup{OptimizerKind::kBiasUpdate, 1, 0, 0, false};
  if (name == "embed.weight" || name == "head.weight") return adamw(true);
  // Gains and biases: every RMSNorm weight (attn/ffn/q/kv/compressor/final/MTP norms), mHC base and
  // scale, sinks, and the compressors' ape (a positional bias table, though 2-D).
  if (ends_with(name, "norm.weight") || ends_with(name, "_base") || ends_with(name, "_scale") ||
      ends_with(name, "attn_sink") || ends_with(name, "compressor.ape"))
    return adamw(false);
  DSV4_CHECK(spec.shape.size() == 2 && (ends_with(name, ".weight") || ends_with(name, "_fn")));
  const int64_t cols = spec.shape[1] * (spec.packed_fp4 ? 2 : 1);  // logical columns of packed FP4
  ParamGroup g{OptimizerKind::kMuon, 1, spec.shape[0], cols, true};
  if (ends_with(name, "attn.wo_a.weight")) {  // [G·R, H·hd/G]: G independent group projections
    g.n_matrices = c.o_groups;
    g.rows = spec.shape[0] / c.o_groups;
  }
  return g;
}

}  // namespace dsv4
