#include "train/trainer.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <map>
#include <numbers>
#include <numeric>
#include <random>

#include "base/float_formats.h"
#include "io/safetensors.h"
#include "model/tensor_list.h"

namespace dsv4::train {
namespace {

uint64_t mix64(uint64_t z) {  // splitmix64's finalizer
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t name_hash(const std::string& s) {  // FNV-1a
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

constexpr float kHcFnStd = 0.02f, kHcScale = 0.01f, kCombDiagonal = 4.0f, kApeStd = 0.02f;

// The initial values of one tensor by its name and official shape (see trainer.h).
void init_tensor(const TensorSpec& spec, int hc, uint64_t seed, std::vector<float>& v) {
  std::mt19937_64 rng(mix64(seed ^ name_hash(spec.name)));
  auto normal = [&](double std) {
    std::normal_distribution<double> nd(0.0, std);
    for (float& x : v) x = float(nd(rng));
  };
  const std::string& n = spec.name;
  if (n == "embed.weight") {
    normal(1.0);
  } else if (n.ends_with("norm.weight")) {
    std::fill(v.begin(), v.end(), 1.0f);
  } else if (n.ends_with(".weight") && spec.shape.size() == 2) {
    normal(1.0 / std::sqrt(double(spec.shape[1])));
  } else if (n.ends_with("_fn")) {
    normal(kHcFnStd);
  } else if (n.ends_with("_scale")) {
    std::fill(v.begin(), v.end(), kHcScale);
  } else if (n.ends_with("_base")) {
    std::fill(v.begin(), v.end(), 0.0f);  // pre = σ(0) = ½, post = 2σ(0) = 1; hc_head: ½ each
    if (int64_t(v.size()) == int64_t(2 + hc) * hc)
      for (int j = 0; j < hc; ++j) v[size_t(2 * hc + j * hc + j)] = kCombDiagonal;
  } else if (n.ends_with(".ape")) {
    normal(kApeStd);
  } else {
    DSV4_CHECK(n.ends_with("attn_sink"));
    std::fill(v.begin(), v.end(), 0.0f);
  }
}

std::map<std::string, std::string> options_metadata(const TrainerOptions& o, const ModelConfig& c) {
  return {{"format", "dsv4-train-state"},
          {"optimizer", o.adamw_only ? "adamw" : "muon"},
          {"steps", std::to_string(o.steps)},
          {"batch", std::to_string(o.batch)},
          {"seq", std::to_string(o.seq)},
          {"grad_accum", std::to_string(o.grad_accum)},
          {"lr", fmt::format("{}", o.lr)},
          {"min_lr_ratio", fmt::format("{}", o.min_lr_ratio)},
          {"warmup", std::to_string(o.warmup)},
          {"clip", fmt::format("{}", o.clip)},
          {"weight_decay", fmt::format("{}", o.weight_decay)},
          {"seed", std::to_string(o.seed)},
          {"balance_alpha", fmt::format("{}", o.balance_alpha)},
          {"bias_speed", fmt::format("{}", o.bias_speed)},
          {"mtp_weight", fmt::format("{}", o.mtp_weight)},
          {"threads", std::to_string(o.threads)},
          {"model", fmt::format("vocab {} dim {} layers {} mtp {} experts {}", c.vocab_size, c.dim, c.n_layers,
                                c.n_mtp_layers, c.n_routed_experts)}};
}

SafetensorsEntry f32_entry(const std::string& name, const std::vector<float>& v) {
  SafetensorsEntry e{name, DType::kF32, {int64_t(v.size())}, std::vector<uint8_t>(v.size() * 4)};
  if (!v.empty()) std::memcpy(e.bytes.data(), v.data(), e.bytes.size());
  return e;
}

MoeParams<float>& ffn_of(ModelParams<float>& p, const ModelConfig& c, int l) {
  return l < c.n_layers ? p.layers[size_t(l)].ffn : p.mtp[size_t(l - c.n_layers)].block.ffn;
}

void add_params(ModelParams<float>& sum, ModelParams<float>& x) {
  std::vector<std::vector<float>*> xs;
  x.for_each("", [&](const std::string&, std::vector<float>& v) { xs.push_back(&v); });
  size_t i = 0;
  sum.for_each("", [&](const std::string&, std::vector<float>& v) {
    const std::vector<float>& a = *xs[i++];
    for (size_t j = 0; j < v.size(); ++j) v[j] += a[j];
  });
}

void add_loads(std::vector<std::vector<int64_t>>& sum, const std::vector<std::vector<int64_t>>& x) {
  if (sum.empty()) {
    sum = x;
    return;
  }
  for (size_t a = 0; a < x.size(); ++a)
    for (size_t e = 0; e < x[a].size(); ++e) sum[a][e] += x[a][e];
}

}  // namespace

double learning_rate(const TrainerOptions& o, int64_t step) {
  const int64_t warm = o.warmup >= 0 ? o.warmup : std::min<int64_t>(100, o.steps / 10);
  if (step < warm) return o.lr * double(step + 1) / double(warm);
  const double progress = std::min(1.0, double(step - warm) / double(std::max<int64_t>(1, o.steps - warm)));
  return o.lr * (o.min_lr_ratio + (1 - o.min_lr_ratio) * 0.5 * (1 + std::cos(std::numbers::pi * progress)));
}

Result<std::unique_ptr<Trainer>> Trainer::create(const ModelConfig& c, const TrainerOptions& o) {
  if (c.fp8 || c.fp4_experts)
    return Status::error("train: the config has FP8/FP4 weights (quantization_config / expert_dtype); training "
                         "exports BF16 checkpoints: remove them from the config");
  for (const TensorSpec& s : expected_tensors(c))
    if (s.dtype != DType::kF32 && s.dtype != DType::kBF16 && s.dtype != DType::kI64)
      return Status::error("train: tensor {} has dtype {}, which training cannot export", s.name,
                           dtype_name(s.dtype));
  if (o.steps < 1 || o.batch < 1 || o.seq < 1 || o.grad_accum < 1)
    return Status::error("train: steps, batch, seq and grad-accum must be at least 1");
  if (!(o.lr > 0) || !(o.clip >= 0) || !(o.min_lr_ratio >= 0 && o.min_lr_ratio <= 1))
    return Status::error("train: lr must be > 0, clip >= 0, min-lr-ratio in [0, 1]");
  if (o.warmup >= o.steps) return Status::error("train: warmup ({}) must be below steps ({})", o.warmup, o.steps);
  if (o.seq + 1 > c.max_position_embeddings)
    return Status::error("train: seq + 1 = {} exceeds the config's max_position_embeddings {}", o.seq + 1,
                         c.max_position_embeddings);
  bool csa = false;
  for (int l = 0; l < c.n_total_layers(); ++l) csa |= c.ratio(l) == 4;
  if (csa && o.seq + 1 > 4 * int64_t(c.index_topk))
    return Status::error("train: seq + 1 = {} exceeds 4·index_topk = {}: the frozen indexer would drop compressed "
                         "entries training attends to",
                         o.seq + 1, 4 * int64_t(c.index_topk));
  std::unique_ptr<Trainer> t(new Trainer(c, o));
  t->initialize();
  return t;
}

Trainer::Trainer(const ModelConfig& config, const TrainerOptions& options)
    : config_(config), opt_(options), dims_(model_dims<float>(config)) {
  dims_.block.attn.fp8_kv = true;  // the engine's FP8 rounding of the KV nope dims (straight-through)
  dims_.balance_alpha = opt_.balance_alpha;
  dims_.mtp_weight = float(opt_.mtp_weight);
}

void Trainer::initialize() {
  params_.resize(dims_);
  pool_ = std::make_unique<ThreadPool>(opt_.threads);
  workers_.resize(size_t(pool_->size()));
  for (Worker& w : workers_) w.grads.resize(dims_);
  std::map<std::string, TensorSpec> specs;
  for (TensorSpec& s : expected_tensors(config_)) specs[s.name] = std::move(s);
  params_.for_each("", [&](const std::string& name, std::vector<float>& v) {
    init_tensor(specs.at(name), config_.hc_mult, opt_.seed, v);
  });
  for (const auto& [name, s] : specs) {
    if (name.find(".indexer.") == std::string::npos) continue;
    std::vector<float> v(size_t(s.parameters()));
    init_tensor(s, config_.hc_mult, opt_.seed, v);
    indexer_.emplace_back(name, std::move(v));
  }
  std::mt19937_64 rng(mix64(opt_.seed ^ name_hash("tid2eid")));
  const int E = config_.n_routed_experts, k = config_.n_activated_experts;
  std::vector<int32_t> perm(static_cast<size_t>(E));
  for (std::vector<int32_t>& table : params_.tid2eid)
    for (int64_t v = 0; v < config_.vocab_size; ++v) {
      std::iota(perm.begin(), perm.end(), 0);
      for (int j = 0; j < k; ++j) {  // a partial Fisher–Yates shuffle: k distinct experts
        const int r = j + int(rng() % uint64_t(E - j));
        std::swap(perm[size_t(j)], perm[size_t(r)]);
        table[size_t(v * k + j)] = perm[size_t(j)];
      }
    }
  OptimizerConfig oc;
  oc.adamw_only = opt_.adamw_only;
  oc.muon.weight_decay = float(opt_.weight_decay);
  oc.adamw.weight_decay = float(opt_.weight_decay);
  optimizer_ = std::make_unique<ModelOptimizer>(config_, params_, oc);
}

StepStats Trainer::step(const std::vector<int32_t>& tokens) {
  const int64_t T = opt_.seq, windows = opt_.batch * opt_.grad_accum, V = dims_.vocab;
  DSV4_CHECK(int64_t(tokens.size()) >= T + 1);
  StepStats st;
  st.step = step_ + 1;
  st.lr = learning_rate(opt_, step_);
  std::vector<double> ce(static_cast<size_t>(windows)), obj(static_cast<size_t>(windows));  // summed in window order
  const uint64_t starts = uint64_t(tokens.size()) - uint64_t(T);
  const int n_workers = int(workers_.size());
  pool_->run([&](int w) {
    Worker& wk = workers_[size_t(w)];
    wk.grads.for_each("", [](const std::string&, std::vector<float>& g) { std::fill(g.begin(), g.end(), 0.0f); });
    wk.loads.clear();
    for (int64_t i = w; i < windows; i += n_workers) {
      const uint64_t off = mix64(opt_.seed ^ mix64(uint64_t(step_) * 0x10000ull + uint64_t(i))) % starts;
      const int32_t* ids = tokens.data() + off;
      const int32_t* targets = ids + 1;
      obj[size_t(i)] = double(model_forward(dims_, params_, ids, targets, T, {}, wk.saved));
      ce[size_t(i)] = double(cross_entropy_forward(wk.saved.logits.data(), targets, T, V));
      model_backward(dims_, params_, ids, targets, T, wk.saved, wk.grads);
      add_loads(wk.loads, router_loads(dims_, {&wk.saved}));
    }
  });
  ModelParams<float>& grads = workers_[0].grads;
  std::vector<std::vector<int64_t>> loads = std::move(workers_[0].loads);
  for (size_t w = 1; w < workers_.size(); ++w) {
    add_params(grads, workers_[w].grads);
    add_loads(loads, workers_[w].loads);
  }
  double sq = 0;
  const float inv = 1.0f / float(windows);
  grads.for_each("", [&](const std::string&, std::vector<float>& g) {
    for (float& x : g) {
      x *= inv;
      sq += double(x) * x;
    }
  });
  st.grad_norm = std::sqrt(sq);
  if (opt_.clip > 0 && st.grad_norm > opt_.clip) {
    const float s = float(opt_.clip / st.grad_norm);
    grads.for_each("", [&](const std::string&, std::vector<float>& g) {
      for (float& x : g) x *= s;
    });
  }
  optimizer_->step(params_, grads, float(st.lr), pool_.get());
  update_router_biases(dims_, params_, loads, float(opt_.bias_speed));
  for (const std::vector<int64_t>& l : loads)
    if (!l.empty()) st.max_violation = std::max(st.max_violation, max_violation(l));
  st.loss = std::accumulate(ce.begin(), ce.end(), 0.0) / double(windows);
  st.objective = std::accumulate(obj.begin(), obj.end(), 0.0) / double(windows);
  st.tokens = windows * T;
  ++step_;
  return st;
}

ValStats Trainer::validate(const std::vector<int32_t>& tokens, int64_t max_tokens) {
  std::vector<int64_t> starts;  // windows of seq + 1 tokens sharing one token, up to max_tokens predictions
  const int64_t n = int64_t(tokens.size());
  for (int64_t start = 0, predicted = 0; start + 1 < n; start += opt_.seq) {
    if (max_tokens > 0 && predicted >= max_tokens) break;
    starts.push_back(start);
    predicted += std::min(opt_.seq, n - 1 - start);
  }
  std::vector<double> nats(starts.size());
  const int n_workers = int(workers_.size());
  pool_->run([&](int w) {
    ModelSaved<float>& saved = workers_[size_t(w)].saved;
    for (size_t i = size_t(w); i < starts.size(); i += size_t(n_workers)) {
      const int64_t len = std::min(opt_.seq, n - 1 - starts[i]);  // predictions in this window
      const int32_t* ids = tokens.data() + starts[i];
      model_forward(dims_, params_, ids, ids + 1, len, {}, saved);
      nats[i] = double(cross_entropy_forward(saved.logits.data(), ids + 1, len, dims_.vocab)) * double(len);
    }
  });
  ValStats v;
  for (size_t i = 0; i < starts.size(); ++i) {
    v.nats += nats[i];
    v.tokens += std::min(opt_.seq, n - 1 - starts[i]);
  }
  return v;
}

Status Trainer::save_state(const std::string& path) {
  std::vector<SafetensorsEntry> entries;
  params_.for_each("", [&](const std::string& name, std::vector<float>& v) {
    entries.push_back(f32_entry("param." + name, v));
  });
  optimizer_->for_each_state([&](const std::string& name, std::vector<float>& m, std::vector<float>& v) {
    entries.push_back(f32_entry("m." + name, m));
    if (!v.empty()) entries.push_back(f32_entry("v." + name, v));
  });
  for (int l = 0; l < config_.n_total_layers(); ++l) {
    const std::vector<float>& b = ffn_of(params_, config_, l).bias;
    if (!b.empty()) entries.push_back(f32_entry(fmt::format("bias.{}", l), b));
  }
  std::map<std::string, std::string> meta = options_metadata(opt_, config_);
  meta["step"] = std::to_string(step_);
  meta["optimizer_steps"] = std::to_string(optimizer_->steps());
  return write_safetensors(path, entries, meta);
}

Status Trainer::load_state(const std::string& path) {
  DSV4_ASSIGN_OR_RETURN(SafetensorsFile f, SafetensorsFile::open(path));
  const std::map<std::string, std::string>& meta = f.metadata();
  for (const auto& [key, value] : options_metadata(opt_, config_)) {
    const auto it = meta.find(key);
    if (it == meta.end()) return Status::error("{}: not a dsv4 training state (no '{}')", path, key);
    if (it->second != value)
      return Status::error("{}: the saved run has {} = {}, this one {}: resume with the same settings", path, key,
                           it->second, value);
  }
  auto load = [&](const std::string& name, std::vector<float>& v) -> Status {
    const TensorView* t = f.find(name);
    if (!t || t->dtype != DType::kF32 || t->numel() != int64_t(v.size()))
      return Status::error("{}: missing or misshapen tensor '{}'", path, name);
    if (!v.empty()) std::memcpy(v.data(), t->data, v.size() * 4);
    return Status::ok();
  };
  Status st = Status::ok();
  params_.for_each("", [&](const std::string& name, std::vector<float>& v) {
    if (st.is_ok()) st = load("param." + name, v);
  });
  optimizer_->for_each_state([&](const std::string& name, std::vector<float>& m, std::vector<float>& v) {
    if (st.is_ok()) st = load("m." + name, m);
    if (st.is_ok() && !v.empty()) st = load("v." + name, v);
  });
  for (int l = 0; l < config_.n_total_layers() && st.is_ok(); ++l) {
    std::vector<float>& b = ffn_of(params_, config_, l).bias;
    if (!b.empty()) st = load(fmt::format("bias.{}", l), b);
  }
  DSV4_RETURN_IF_ERROR(st);
  try {
    step_ = std::stoll(meta.at("step"));
    optimizer_->set_steps(std::stoll(meta.at("optimizer_steps")));
  } catch (const std::exception&) {
    return Status::error("{}: bad step counters in the metadata", path);
  }
  return Status::ok();
}

Status Trainer::export_checkpoint(const std::string& path) {
  std::map<std::string, const std::vector<float>*> values;
  params_.for_each("", [&](const std::string& name, std::vector<float>& v) { values[name] = &v; });
  for (const auto& [name, v] : indexer_) values[name] = &v;
  for (int l = 0; l < config_.n_total_layers(); ++l) {
    const std::string prefix = l < config_.n_layers ? fmt::format("layers.{}.", l)
                                                    : fmt::format("mtp.{}.", l - config_.n_layers);
    const std::vector<float>& b = ffn_of(params_, config_, l).bias;
    if (!b.empty()) values[prefix + "ffn.gate.bias"] = &b;
  }
  std::vector<SafetensorsEntry> entries;
  for (const TensorSpec& s : expected_tensors(config_)) {
    SafetensorsEntry e{s.name, s.dtype, s.shape, std::vector<uint8_t>(size_t(s.stored_bytes()))};
    if (s.dtype == DType::kI64) {  // layers.L.ffn.gate.tid2eid
      const int l = s.layer;
      DSV4_CHECK(l >= 0 && size_t(l) < params_.tid2eid.size());
      const std::vector<int32_t>& table = params_.tid2eid[size_t(l)];
      DSV4_CHECK(int64_t(table.size()) * 8 == s.stored_bytes());
      for (size_t i = 0; i < table.size(); ++i) {
        const int64_t x = table[i];
        std::memcpy(e.bytes.data() + 8 * i, &x, 8);
      }
    } else {
      const auto it = values.find(s.name);
      if (it == values.end()) return Status::error("train: no values for tensor '{}'", s.name);
      const std::vector<float>& v = *it->second;
      DSV4_CHECK(int64_t(v.size()) == s.parameters());
      if (s.dtype == DType::kF32) {
        std::memcpy(e.bytes.data(), v.data(), v.size() * 4);
      } else {
        DSV4_CHECK(s.dtype == DType::kBF16);
        for (size_t i = 0; i < v.size(); ++i) {
          const uint16_t h = f32_to_bf16(v[i]);
          std::memcpy(e.bytes.data() + 2 * i, &h, 2);
        }
      }
    }
    entries.push_back(std::move(e));
  }
  return write_safetensors(path, entries, {{"format", "pt"}});
}

}  // namespace dsv4::train
