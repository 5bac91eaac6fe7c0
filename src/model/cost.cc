#include "model/cost.h"

#include <map>
#include <string_view>
#include <vector>

#include "model/tensor_list.h"

namespace dsv4 {

TokenCost token_cost(const ModelConfig& c) {
  const std::vector<TensorSpec> specs = expected_tensors(c);
  std::map<std::string_view, TensorRole> roles;
  for (const TensorSpec& s : specs) roles.emplace(s.name, s.role);
  // A scale belongs to the weight of the same name ("x.scale" → "x.weight") and is read with it.
  const auto weight_role = [&](const TensorSpec& s) {
    if (s.role != TensorRole::kScale) return s.role;
    const auto it = roles.find(s.name.substr(0, s.name.size() - 5) + "weight");
    return it == roles.end() ? s.role : it->second;
  };
  const double expert_share = double(c.n_activated_experts) / c.n_routed_experts;
  TokenCost cost;
  for (const TensorSpec& s : specs) {
    if (s.mtp) continue;
    const TensorRole role = weight_role(s);
    const double bytes = double(s.stored_bytes());
    const double share = role == TensorRole::kRoutedExpert ? expert_share : 1.0;
    if (role == TensorRole::kEmbedding || role == TensorRole::kIndex)
      cost.decode_bytes += bytes / double(s.shape[0]);
    else
      cost.decode_bytes += bytes * share;
    const std::string_view n = s.name;
    const bool product = s.shape.size() == 2 && role != TensorRole::kEmbedding &&
                         (n.ends_with(".weight") || n.ends_with("_fn"));
    if (!product) continue;
    if (s.name == "head.weight")
      cost.head_macs += double(s.parameters());
    else
      cost.linear_macs += double(s.parameters()) * share;
  }
  return cost;
}

}  // namespace dsv4
