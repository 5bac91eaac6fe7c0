// The training run of a whole DeepSeek-V4 model (`dsv4 train`): initialisation, one optimizer step over a
// batch of windows drawn from a token sequence, validation, the run's state on disk (for a bit-exact
// --resume) and the exported checkpoint in the official layout.
//
//   step k:  for each of batch·grad_accum windows (offsets from a hash of (seed, k, i): no RNG state),
//            forward + backward with gradients summed (window i on thread i mod threads), then averaged;
//            optional clipping of the global gradient norm; one ModelOptimizer step at lr(k); the
//            aux-loss-free bias update from the step's expert loads.
//   lr(k):   linear warm-up over `warmup` steps to `lr`, then cosine decay to min_lr_ratio·lr at `steps`.
//
// Initialisation (DeepSeek does not publish its own; training.md §2.5): linears N(0, 1/in), embedding
// N(0, 1), norm weights 1, mHC fn N(0, 0.02) with scales 0.01 and bases that start as pre = ½, post = 1
// and a near-identity comb (diagonal logit 4), sinks, gate biases 0, compressor ape N(0, 0.02), tid2eid
// distinct random experts per token. The frozen lightning indexer's tensors are drawn once from the seed
// (the same rules) and only exported: training attends to every eligible compressed entry, which is what
// the engine's indexer picks while a window holds at most 4·index_topk tokens (create() checks seq).
//
// The exported checkpoint holds every tensor of expected_tensors(config) in its official dtype: BF16
// linears (configs without FP8/FP4 quantisation only), F32 mHC/sinks/ape/biases, I64 tid2eid.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "model/config.h"
#include "train/model.h"
#include "train/model_optimizer.h"

namespace dsv4::train {

struct TrainerOptions {
  bool adamw_only = false;   // --optimizer adamw; else Muon/AdamW by param_groups.h
  int64_t steps = 200;       // the schedule's length
  int64_t batch = 8;         // windows per micro-batch
  int64_t seq = 128;         // tokens per window (each predicts the next token)
  int64_t grad_accum = 1;    // micro-batches per optimizer step
  double lr = 3e-3;          // peak learning rate (AdamW's and Muon's)
  double min_lr_ratio = 0.1; // cosine floor (V4: 2.7e-5 / 2.7e-4)
  int64_t warmup = -1;       // steps; −1: min(100, steps / 10)
  double clip = 0;           // global gradient-norm clip; 0 = off
  double weight_decay = 0.1;
  uint64_t seed = 1;
  double balance_alpha = 1e-4;  // V4
  double bias_speed = 1e-3;     // V4
  double mtp_weight = 0.3;      // V4 (before the decay phase)
  int threads = 1;  // windows in parallel: each thread sums its windows' gradients, then the threads' sums
                    // are added in order, so results depend on the count (a resume must keep it)
};

double learning_rate(const TrainerOptions& o, int64_t step);  // step counts from 0

struct StepStats {
  int64_t step = 0;        // the step just taken, from 1
  double lr = 0;
  double loss = 0;         // main next-token cross-entropy, mean over the step's tokens (nats)
  double objective = 0;    // what the gradients are of: CE + λ·MTP + balance terms, mean over windows
  double grad_norm = 0;    // before clipping
  double max_violation = 0;  // max over top-k MoE layers of (max load / mean load − 1)
  int64_t tokens = 0;      // predicted tokens in the step
};

struct ValStats {
  int64_t tokens = 0;      // tokens predicted
  double nats = 0;         // their summed −ln p
  double nats_per_token() const { return tokens ? nats / double(tokens) : 0; }
};

class Trainer {
 public:
  // Fails on a config whose checkpoint would hold FP8/FP4 tensors, on options out of range, and on a
  // window the config cannot hold.
  static Result<std::unique_ptr<Trainer>> create(const ModelConfig& config, const TrainerOptions& options);

  // One optimizer step on windows of `tokens` (at least seq + 1 of them).
  StepStats step(const std::vector<int32_t>& tokens);
  // Main cross-entropy over consecutive windows of seq + 1 tokens sharing one token (as `dsv4 eval
  // --ctx seq+1` cuts them), at most `max_tokens` predictions (0: the whole sequence).
  ValStats validate(const std::vector<int32_t>& tokens, int64_t max_tokens);

  int64_t steps_done() const { return step_; }
  const TrainerOptions& options() const { return opt_; }

  // The run's state (FP32 weights, biases, optimizer moments, step, options) in one safetensors file,
  // written atomically; load_state checks it belongs to this config and these options.
  Status save_state(const std::string& path);
  Status load_state(const std::string& path);
  // model.safetensors in the official layout (see above), written atomically.
  Status export_checkpoint(const std::string& path);

 private:
  Trainer(const ModelConfig& config, const TrainerOptions& options);
  void initialize();

  ModelConfig config_;
  TrainerOptions opt_;
  ModelDims<float> dims_;
  // One thread's share of a step: its windows' summed gradients and the buffers of one window.
  struct Worker {
    ModelParams<float> grads;
    ModelSaved<float> saved;
    std::vector<std::vector<int64_t>> loads;  // expert loads per MoE layer
  };

  ModelParams<float> params_;
  std::vector<Worker> workers_;  // workers_[0].grads holds the step's total
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<ModelOptimizer> optimizer_;
  std::vector<std::pair<std::string, std::vector<float>>> indexer_;  // frozen, export only
  int64_t step_ = 0;
};

}  // namespace dsv4::train
