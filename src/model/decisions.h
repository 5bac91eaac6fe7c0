// DecisionHook: a test hook to observe or replace the model's discrete decisions — the lightning
// indexer's top-k entries and the routed expert ids — one (layer, position) row at a time. Golden checks
// use it to force the reference's decisions. It is called once per row, outside the inner loops, and
// costs nothing when absent (nullptr).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace dsv4 {

class DecisionHook {
 public:
  virtual ~DecisionHook() = default;
  // `scores`: the indexer score of every eligible compressed entry (index = entry id); `picks`: the
  // chosen entry ids, best first. The hook may replace `picks` (any size up to index_topk, ids eligible).
  virtual void indexer(int layer, int64_t pos, std::span<const float> scores, std::vector<int32_t>& picks) {
    (void)layer, (void)pos, (void)scores, (void)picks;
  }
  // `ids`: the num_experts_per_tok routed experts; the hook may overwrite them (distinct, in range).
  // Routing weights are computed afterwards from the model's own gate scores for the final ids.
  virtual void experts(int layer, int64_t pos, std::span<int32_t> ids) { (void)layer, (void)pos, (void)ids; }
};

}  // namespace dsv4
