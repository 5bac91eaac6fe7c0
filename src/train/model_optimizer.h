// One optimizer step over the whole training model: each tensor goes to the optimizer param_groups.h
// assigns it (Muon for hidden matrices, each stacked matrix on its own; AdamW for the rest), with the
// shared learning rate η (V4 reuses AdamW's schedule for Muon) and per-group weight decay.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "model/config.h"
#include "train/model.h"
#include "train/optimizer.h"
#include "train/param_groups.h"

namespace dsv4::train {

struct OptimizerConfig {
  MuonOptions muon;
  AdamWOptions adamw;
  bool adamw_only = false;  // every tensor on AdamW (a baseline): the table's Muon tensors included
};

class ModelOptimizer {
 public:
  // `config` names the tensors (expected_tensors) the parameters are matched against by name.
  ModelOptimizer(const ModelConfig& config, ModelParams<float>& params, OptimizerConfig opt = {}) : opt_(opt) {
    std::map<std::string, TensorSpec> specs;
    for (TensorSpec& s : expected_tensors(config)) specs[s.name] = std::move(s);
    params.for_each("", [&](const std::string& name, std::vector<float>& v) {
      const auto spec = specs.find(name);
      DSV4_CHECK(spec != specs.end());
      Slot slot{name, param_group(spec->second, config), {}, {}};
      DSV4_CHECK(slot.group.kind == OptimizerKind::kMuon || slot.group.kind == OptimizerKind::kAdamW);
      if (opt_.adamw_only) slot.group.kind = OptimizerKind::kAdamW;
      DSV4_CHECK(slot.group.kind != OptimizerKind::kMuon ||
                 int64_t(v.size()) == slot.group.n_matrices * slot.group.rows * slot.group.cols);
      slot.m.assign(v.size(), 0.0f);
      if (slot.group.kind == OptimizerKind::kAdamW) slot.v.assign(v.size(), 0.0f);
      slots_.push_back(std::move(slot));
    });
  }

  // params ← one step with gradients `grads` (shaped as params) at learning rate lr. Tensors are
  // independent, so `pool` (if any) steps several at once; the result does not depend on it.
  void step(ModelParams<float>& params, ModelParams<float>& grads, float lr, ThreadPool* pool = nullptr) {
    ++t_;
    std::vector<std::vector<float>*> w, g;
    params.for_each("", [&](const std::string&, std::vector<float>& v) { w.push_back(&v); });
    grads.for_each("", [&](const std::string&, std::vector<float>& v) { g.push_back(&v); });
    DSV4_CHECK(w.size() == slots_.size() && g.size() == slots_.size());
    const auto step_range = [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) step_tensor(slots_[size_t(i)], *w[size_t(i)], *g[size_t(i)], lr);
    };
    if (pool) pool->parallel_for(int64_t(slots_.size()), 1, step_range);
    else step_range(0, int64_t(slots_.size()));
  }

  // The optimizer state, for saving and restoring a run: f(name, m, v) per tensor in for_each order (v is
  // empty for Muon tensors), and the number of steps taken (AdamW's bias correction counts from it).
  template <typename F>
  void for_each_state(F&& f) {
    for (Slot& s : slots_) f(s.name, s.m, s.v);
  }
  int64_t steps() const { return t_; }
  void set_steps(int64_t t) { t_ = t; }

  // The optimizer of each tensor, in for_each order: for logs and tests.
  std::vector<std::pair<std::string, OptimizerKind>> assignment() const {
    std::vector<std::pair<std::string, OptimizerKind>> out;
    for (const Slot& s : slots_) out.emplace_back(s.name, s.group.kind);
    return out;
  }

 private:
  struct Slot {
    std::string name;
    ParamGroup group;
    std::vector<float> m, v;  // Muon: momentum in m; AdamW: first and second moments
  };
  void step_tensor(Slot& s, std::vector<float>& w, const std::vector<float>& g, float lr) const {
    if (s.group.kind == OptimizerKind::kMuon) {
      MuonOptions o = opt_.muon;
      if (!s.group.weight_decay) o.weight_decay = 0.0f;
      muon_step(w.data(), g.data(), s.m.data(), s.group.n_matrices, s.group.rows, s.group.cols, lr, o);
    } else {
      AdamWOptions o = opt_.adamw;
      if (!s.group.weight_decay) o.weight_decay = 0.0f;
      adamw_step(w.data(), g.data(), s.m.data(), s.v.data(), int64_t(w.size()), t_, lr, o);
    }
  }

  OptimizerConfig opt_;
  std::vector<Slot> slots_;
  int64_t t_ = 0;
};

}  // namespace dsv4::train
