#include "model/synthetic.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>
#include <string_view>
#include <vector>

#include "base/check.h"
#include "base/float_formats.h"
#include "io/safetensors_writer.h"
#include "model/tensor_list.h"

namespace dsv4 {

namespace {

constexpr float kHcFnStd = 1e-3f;
constexpr float kApeStd = 0.02f;
constexpr float kCombDiagonal = 4.0f;  // softmax row of [4, 0, 0, 0]: 0.95 on the diagonal (hc_mult 4)
constexpr int64_t kChunk = 1 << 16;    // elements per batch of the element-wise fills

uint64_t mix64(uint64_t z) {  // the splitmix64 finalizer
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char ch : s) h = (h ^ uint8_t(ch)) * 0x100000001b3ull;
  return h;
}

// One tensor's random stream: draw i is splitmix64 at counter i, so any element can be produced alone.
class Stream {
 public:
  Stream(uint64_t seed, std::string_view name) : key_(mix64(seed ^ fnv1a(name))) {}
  uint64_t bits(uint64_t i) const { return mix64(key_ + (i + 1) * 0x9e3779b97f4a7c15ull); }
  // out[j] ≈ N(0, std²) for draws first … first + n − 1: the sum of four uniform 16-bit lanes, standardised.
  void normal(uint64_t first, int64_t n, float std, float* out) const {
    constexpr double kMean = 4 * 32767.5, kStd = 37837.2258;  // sqrt(4 · (65536² − 1) / 12)
    const float a = float(std / kStd), b = float(-kMean * std / kStd);
    for (int64_t j = 0; j < n; ++j) {
      const uint64_t x = bits(first + uint64_t(j));
      const uint32_t s = uint32_t(x & 0xffff) + uint32_t((x >> 16) & 0xffff) + uint32_t((x >> 32) & 0xffff) +
                         uint32_t(x >> 48);
      out[j] = float(s) * a + b;
    }
  }

 private:
  uint64_t key_;
};

// Smallest e with 2^e >= x (x > 0), clamped to E8M0's range: the power-of-two scale a block of amax
// x · max_code needs. An all-zero block (x = 0) gets scale 1.
int scale_exponent(float x) {
  int e = 0;
  const float m = std::frexp(x, &e);
  if (m == 0.0f) return 0;
  return std::clamp(m == 0.5f ? e - 1 : e, -127, 127);
}

// f32_to_e2m1 for |x| <= 6 without its search loop, the hot spot of FP4 generation: the number of
// midpoints below |x|, ties to the even code (>= at the midpoints above an odd code). Same codes.
inline uint8_t e2m1_code(float x) {
  const float a = std::fabs(x);
  const int code = (a > 0.25f) + (a >= 0.75f) + (a > 1.25f) + (a >= 1.75f) + (a > 2.5f) + (a >= 3.5f) + (a > 5.0f);
  return uint8_t((std::signbit(x) ? 8 : 0) | code);
}

enum class Fill { kLinear, kNormal, kOnes, kZeros, kHcBase, kTid2eid };

struct Rule {
  Fill fill;
  float std = 0;
};

Result<Rule> rule_for(const TensorSpec& s) {
  const std::string_view n = s.name;
  if (s.role == TensorRole::kEmbedding) return Rule{Fill::kNormal, 1.0f};
  if (s.role == TensorRole::kIndex) return Rule{Fill::kTid2eid};
  if (n.ends_with("norm.weight")) return Rule{Fill::kOnes};
  if (n.ends_with(".weight") && s.shape.size() == 2) return Rule{Fill::kLinear};
  if (n.ends_with("_fn")) return Rule{Fill::kNormal, kHcFnStd};
  if (n.ends_with("_base")) return Rule{Fill::kHcBase};
  if (n.ends_with("_scale")) return Rule{Fill::kOnes};
  if (n.ends_with("attn_sink") || n.ends_with("gate.bias")) return Rule{Fill::kZeros};
  if (n.ends_with(".ape")) return Rule{Fill::kNormal, kApeStd};
  return Status::error("make-synthetic: no rule for tensor '{}' ({} {})", s.name, dtype_name(s.dtype),
                       shape_str(s.shape));
}

struct Job {
  size_t tensor;
  size_t scale;  // its E8M0 scale tensor, or SIZE_MAX
  Rule rule;
};

struct Scratch {
  std::vector<float> values;
  std::vector<uint16_t> bf16;
  std::vector<uint8_t> weight_buffer, scale_buffer;
};

// FP8 e4m3 [out, in] with [ceil(out/128), ceil(in/128)] scales, 128 rows at a time.
void fp8_linear(const Stream& rng, int64_t out, int64_t in, TensorSink& w, TensorSink& s, Scratch& scratch) {
  const float std = 1.0f / std::sqrt(float(in));
  const int64_t n_blocks = (in + 127) / 128;
  for (int64_t r0 = 0; r0 < out; r0 += 128) {
    const int64_t rows = std::min<int64_t>(128, out - r0);
    scratch.values.resize(size_t(rows * in));
    float* v = scratch.values.data();
    rng.normal(uint64_t(r0 * in), rows * in, std, v);
    uint8_t* codes = w.append(size_t(rows * in));
    uint8_t* scales = s.append(size_t(n_blocks));
    for (int64_t b = 0; b < n_blocks; ++b) {
      const int64_t c0 = b * 128, c1 = std::min(in, c0 + 128);
      float amax = 0.0f;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = c0; c < c1; ++c) amax = std::max(amax, std::fabs(v[r * in + c]));
      const int e = scale_exponent(amax / 448.0f);
      scales[b] = uint8_t(127 + e);
      const float inv = std::ldexp(1.0f, -e);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = c0; c < c1; ++c) codes[r * in + c] = f32_to_e4m3(v[r * in + c] * inv);
    }
  }
}

// FP4 e2m1 [out, in] packed as [out, in/2] (element 2j in the low nibble) with [out, in/32] scales.
void fp4_linear(const Stream& rng, int64_t out, int64_t in, TensorSink& w, TensorSink& s, Scratch& scratch) {
  DSV4_CHECK(in % 32 == 0);
  const float std = 1.0f / std::sqrt(float(in));
  const int64_t rows_per_batch = std::max<int64_t>(1, kChunk / in);
  for (int64_t r0 = 0; r0 < out; r0 += rows_per_batch) {
    const int64_t rows = std::min(rows_per_batch, out - r0), n = rows * in;
    scratch.values.resize(size_t(n));
    const float* v = scratch.values.data();
    rng.normal(uint64_t(r0 * in), n, std, scratch.values.data());
    uint8_t* packed = w.append(size_t(n / 2));
    uint8_t* scales = s.append(size_t(n / 32));
    for (int64_t b = 0; b < n / 32; ++b, v += 32) {
      float amax = 0.0f;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(v[j]));
      const int e = scale_exponent(amax / 6.0f);
      scales[b] = uint8_t(127 + e);
      const float inv = std::ldexp(1.0f, -e);
      for (int j = 0; j < 16; ++j)
        packed[b * 16 + j] = uint8_t(e2m1_code(v[2 * j] * inv) | (e2m1_code(v[2 * j + 1] * inv) << 4));
    }
  }
}

// Element-wise values (F32 or BF16), produced kChunk at a time by value(first, n, out).
template <typename ValueFn>
Status elementwise(const TensorSpec& spec, TensorSink& w, Scratch& scratch, ValueFn value) {
  if (spec.dtype != DType::kF32 && spec.dtype != DType::kBF16)
    return Status::error("make-synthetic: tensor '{}' is {}, expected F32 or BF16", spec.name,
                         dtype_name(spec.dtype));
  const int64_t numel = shape_numel(spec.shape).value_or(0);
  scratch.values.resize(size_t(std::min(numel, kChunk)));
  for (int64_t first = 0; first < numel; first += kChunk) {
    const int64_t n = std::min(kChunk, numel - first);
    float* v = scratch.values.data();
    value(first, n, v);
    if (spec.dtype == DType::kF32) {
      w.write(v, size_t(n) * 4);
    } else {
      scratch.bf16.resize(size_t(n));
      for (int64_t j = 0; j < n; ++j) scratch.bf16[size_t(j)] = f32_to_bf16(v[j]);
      w.write(scratch.bf16.data(), size_t(n) * 2);
    }
  }
  return Status::ok();
}

// I64 [vocab, k]: each row holds k distinct experts (a partial Fisher–Yates shuffle of 0 … E−1).
void tid2eid(const Stream& rng, const TensorSpec& spec, int n_experts, TensorSink& w) {
  const int64_t rows = spec.shape[0], k = spec.shape[1];
  std::vector<int64_t> ids(static_cast<size_t>(n_experts));
  for (int64_t r = 0; r < rows; ++r) {
    for (int e = 0; e < n_experts; ++e) ids[size_t(e)] = e;
    for (int64_t j = 0; j < k; ++j) {
      const uint64_t pick = uint64_t(j) + rng.bits(uint64_t(r * k + j)) % uint64_t(n_experts - j);
      std::swap(ids[size_t(j)], ids[size_t(pick)]);
    }
    w.write(ids.data(), size_t(k) * 8);
  }
}

// mHC bases: [hc] for hc_head (pre only), [(2 + hc) · hc] = pre, post, comb (row-major) for a block site.
void hc_base(int hc, int64_t first, int64_t n, float* out) {
  for (int64_t j = 0; j < n; ++j) {
    const int64_t i = first + j - 2 * hc;  // index into comb when >= 0
    out[j] = i >= 0 && i / hc == i % hc ? kCombDiagonal : 0.0f;
  }
}

Status run_job(const ModelConfig& c, const std::vector<TensorSpec>& specs, const Job& job, uint64_t seed,
               SafetensorsWriter& writer, Scratch& scratch) {
  const TensorSpec& spec = specs[job.tensor];
  const Stream rng(seed, spec.name);
  TensorSink w = writer.sink(job.tensor, scratch.weight_buffer);
  switch (job.rule.fill) {
    case Fill::kLinear: {
      const int64_t out = spec.shape[0], in = spec.shape[1] * (spec.packed_fp4 ? 2 : 1);
      if (job.scale == SIZE_MAX) {  // BF16
        const float std = 1.0f / std::sqrt(float(in));
        DSV4_RETURN_IF_ERROR(elementwise(spec, w, scratch, [&](int64_t f, int64_t n, float* v) {
          rng.normal(uint64_t(f), n, std, v);
        }));
        break;
      }
      TensorSink s = writer.sink(job.scale, scratch.scale_buffer);
      if (spec.packed_fp4)
        fp4_linear(rng, out, in, w, s, scratch);
      else
        fp8_linear(rng, out, in, w, s, scratch);
      DSV4_RETURN_IF_ERROR(s.close());
      break;
    }
    case Fill::kNormal:
      DSV4_RETURN_IF_ERROR(elementwise(spec, w, scratch, [&](int64_t f, int64_t n, float* v) {
        rng.normal(uint64_t(f), n, job.rule.std, v);
      }));
      break;
    case Fill::kOnes:
    case Fill::kZeros: {
      const float x = job.rule.fill == Fill::kOnes ? 1.0f : 0.0f;
      DSV4_RETURN_IF_ERROR(
          elementwise(spec, w, scratch, [&](int64_t, int64_t n, float* v) { std::fill(v, v + n, x); }));
      break;
    }
    case Fill::kHcBase:
      DSV4_RETURN_IF_ERROR(
          elementwise(spec, w, scratch, [&](int64_t f, int64_t n, float* v) { hc_base(c.hc_mult, f, n, v); }));
      break;
    case Fill::kTid2eid:
      tid2eid(rng, spec, c.n_routed_experts, w);
      break;
  }
  return w.close();
}

Result<std::vector<Job>> plan_jobs(const std::vector<TensorSpec>& specs) {
  std::map<std::string_view, size_t> index;
  for (size_t i = 0; i < specs.size(); ++i) index.emplace(specs[i].name, i);
  std::vector<Job> jobs;
  for (size_t i = 0; i < specs.size(); ++i) {
    const TensorSpec& s = specs[i];
    if (s.role == TensorRole::kScale) continue;  // written with its weight
    DSV4_ASSIGN_OR_RETURN(Rule rule, rule_for(s));
    Job job{i, SIZE_MAX, rule};
    if (rule.fill == Fill::kLinear && s.dtype != DType::kBF16) {
      const std::string scale = s.name.substr(0, s.name.size() - 6) + "scale";  // "x.weight" -> "x.scale"
      const auto it = index.find(scale);
      if (it == index.end()) return Status::error("make-synthetic: tensor '{}' has no '{}'", s.name, scale);
      job.scale = it->second;
    }
    jobs.push_back(job);
  }
  // Largest first, so the threads finish together.
  std::stable_sort(jobs.begin(), jobs.end(), [&](const Job& a, const Job& b) {
    return specs[a.tensor].stored_bytes() > specs[b.tensor].stored_bytes();
  });
  return jobs;
}

}  // namespace

Status write_synthetic_checkpoint(const ModelConfig& config, const std::string& path, uint64_t seed,
                                  ThreadPool& pool) {
  const std::vector<TensorSpec> specs = expected_tensors(config);
  DSV4_ASSIGN_OR_RETURN(const std::vector<Job> jobs, plan_jobs(specs));
  std::vector<SafetensorsTensorInfo> infos;
  for (const TensorSpec& s : specs) infos.push_back({s.name, s.dtype, s.shape});
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"}, {"generator", "dsv4 make-synthetic"}, {"seed", std::to_string(seed)}};
  DSV4_ASSIGN_OR_RETURN(SafetensorsWriter writer, SafetensorsWriter::create(path, std::move(infos), metadata));

  std::atomic<size_t> next{0};
  std::vector<Status> errors(size_t(pool.size()));
  pool.run([&](int t) {
    Scratch scratch;
    for (size_t j = next++; j < jobs.size(); j = next++) {
      errors[size_t(t)] = run_job(config, specs, jobs[j], seed, writer, scratch);
      if (!errors[size_t(t)].is_ok()) {
        next = jobs.size();  // the others stop at their next job
        return;
      }
    }
  });
  for (const Status& e : errors) DSV4_RETURN_IF_ERROR(e);
  return writer.finish();
}

Status write_synthetic_model(const std::string& config_path, const std::string& dir, uint64_t seed,
                             ThreadPool& pool) {
  namespace fs = std::filesystem;
  DSV4_ASSIGN_OR_RETURN(const ModelConfig config, load_model_config(config_path));
  std::error_code ec;
  const fs::path src =
      fs::is_directory(config_path, ec) ? fs::path(config_path) / "config.json" : fs::path(config_path);
  fs::create_directories(dir, ec);
  if (ec) return Status::error("{}: cannot create the directory: {}", dir, ec.message());
  const fs::path out(dir);
  if (fs::exists(out / "model.safetensors.index.json", ec))
    return Status::error("{}: holds a sharded checkpoint (model.safetensors.index.json); choose another "
                         "directory", dir);
  // The config is copied last: a directory with a config.json holds a complete checkpoint.
  if (fs::exists(out / "config.json", ec) && !fs::equivalent(src, out / "config.json", ec))
    fs::remove(out / "config.json", ec);
  DSV4_RETURN_IF_ERROR(write_synthetic_checkpoint(config, (out / "model.safetensors").string(), seed, pool));
  if (!fs::exists(out / "config.json", ec) &&
      !fs::copy_file(src, out / "config.json", fs::copy_options::overwrite_existing, ec))
    return Status::error("{}: cannot copy {}: {}", dir, src.string(), ec.message());
  return Status::ok();
}

}  // namespace dsv4
