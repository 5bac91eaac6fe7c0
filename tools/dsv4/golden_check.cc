// dsv4 golden-check CASE_DIR: runs the recommended protocol of shared/golden/README.md against the
// official reference's outputs, with one fixed set of criteria for every case (issue #2). The engine
// computes in FP32 with the model's quantizers kept, so its tight targets are the `fp32tf.*` tensors.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "base/float_formats.h"
#include "commands.h"
#include "io/safetensors.h"
#include "model/model.h"

namespace dsv4 {

namespace {

namespace fs = std::filesystem;

// The fixed criteria (issue #2).
constexpr double kBlockMeanRel = 1e-3, kBlockP50 = 1e-4, kBlockP99 = 0.1, kBlockMax = 0.2;
constexpr double kHeadMaxAbs = 1e-3;
constexpr double kMtpMaxAbs = 0.05;
constexpr double kExpertAgreement = 0.95;
constexpr double kIndexerSlack = 0.15;  // × the layer's largest |score|
constexpr double kE2eTop1 = 0.5, kE2eMeanAbs = 1.5;

struct Failure {
  std::string message;
};

// Reference tensors decoded to FP32 / int32.
class Reference {
 public:
  static Result<Reference> open(const std::string& path) {
    Reference r;
    DSV4_ASSIGN_OR_RETURN(r.file_, SafetensorsFile::open(path));
    return r;
  }

  Result<std::vector<float>> floats(const std::string& name, Shape* shape = nullptr) const {
    const TensorView* t = file_.find(name);
    if (!t) return Status::error("{}: missing reference tensor '{}'", file_.path(), name);
    if (t->dtype != DType::kF32 && t->dtype != DType::kBF16)
      return Status::error("{}: tensor '{}' is {}, expected F32 or BF16", file_.path(), name, dtype_name(t->dtype));
    if (shape) *shape = t->shape;
    std::vector<float> v(size_t(t->numel()));
    for (size_t i = 0; i < v.size(); ++i) {
      if (t->dtype == DType::kF32) {
        std::memcpy(&v[i], t->data + 4 * i, 4);
      } else {
        uint16_t h;
        std::memcpy(&h, t->data + 2 * i, 2);
        v[i] = bf16_to_f32(h);
      }
    }
    return v;
  }

  Result<std::vector<int32_t>> ints(const std::string& name, Shape* shape = nullptr) const {
    const TensorView* t = file_.find(name);
    if (!t) return Status::error("{}: missing reference tensor '{}'", file_.path(), name);
    if (t->dtype != DType::kI32)
      return Status::error("{}: tensor '{}' is {}, expected I32", file_.path(), name, dtype_name(t->dtype));
    if (shape) *shape = t->shape;
    std::vector<int32_t> v(size_t(t->numel()));
    std::memcpy(v.data(), t->data, v.size() * 4);
    return v;
  }

 private:
  SafetensorsFile file_;
};

// Forces the reference's decisions, and records the engine's own ones (before forcing) with their scores.
class GoldenHook : public DecisionHook {
 public:
  struct Table {
    std::vector<int32_t> ids;
    int64_t width = 0;
  };
  bool force = false;
  std::map<int, Table> ref_topk, ref_experts;  // by layer; rows = positions (prefill rows then decode rows)
  std::map<std::pair<int, int64_t>, std::vector<int32_t>> own_picks, own_experts;
  std::map<std::pair<int, int64_t>, std::vector<float>> own_scores;

  void indexer(int layer, int64_t pos, std::span<const float> scores, std::vector<int32_t>& picks) override {
    own_picks[{layer, pos}] = picks;
    own_scores[{layer, pos}].assign(scores.begin(), scores.end());
    if (!force) return;
    const Table& t = ref_topk.at(layer);
    picks.clear();
    for (int64_t i = 0; i < t.width; ++i) {
      const int32_t id = t.ids[size_t(pos * t.width + i)];
      if (id >= 0) picks.push_back(id);
    }
  }
  void experts(int layer, int64_t pos, std::span<int32_t> ids) override {
    own_experts[{layer, pos}].assign(ids.begin(), ids.end());
    if (!force) return;
    const Table& t = experts_of(layer);
    for (size_t j = 0; j < ids.size(); ++j) ids[j] = t.ids[size_t(pos * t.width + int64_t(j))];
  }
  const Table& experts_of(int layer) const { return ref_experts.at(layer); }
};

struct RowStats {
  double mean_rel = 0, p50 = 0, p99 = 0, max = 0;
};

// "Row max rel" of the golden README: per row max |Δ| over the RMS of the whole reference tensor.
RowStats row_stats(const float* got, const float* want, int64_t rows, int64_t width) {
  double ss = 0, sum_abs = 0;
  for (int64_t i = 0; i < rows * width; ++i) ss += double(want[i]) * want[i];
  const double rms = std::sqrt(ss / double(rows * width));
  std::vector<double> row_max(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    double m = 0;
    for (int64_t i = 0; i < width; ++i) {
      const double d = std::fabs(double(got[r * width + i]) - want[r * width + i]);
      m = std::max(m, std::isnan(d) ? INFINITY : d);
      sum_abs += d;
    }
    row_max[size_t(r)] = m / rms;
  }
  std::sort(row_max.begin(), row_max.end());
  const auto pct = [&](double p) {  // nearest rank
    const size_t k = size_t(std::ceil(p * double(rows)));
    return row_max[std::min(row_max.size() - 1, k ? k - 1 : 0)];
  };
  return {sum_abs / double(rows * width) / rms, pct(0.5), pct(0.99), row_max.back()};
}

class GoldenCheck {
 public:
  GoldenCheck(std::unique_ptr<Model> model, Reference ref, std::vector<int32_t> prompt, std::vector<int32_t> decode,
              std::string name)
      : model_(std::move(model)), ref_(std::move(ref)), prompt_(std::move(prompt)), decode_(std::move(decode)),
        name_(std::move(name)) {}

  Status run() {
    const ModelConfig& c = model_->config();
    std::string kinds;
    for (int i = 0; i < c.n_layers; ++i)
      kinds += fmt::format("{}{}{}", i ? ", " : "", attn_kind_name(c.attn_kind(i)), c.is_hash_layer(i) ? "*" : "");
    fmt::print("golden-check {}: prompt {} + decode {}, {} layers ({}; * = hash routing), {} MTP\n", name_,
               prompt_.size(), decode_.size(), c.n_layers, kinds, c.n_mtp_layers);
    DSV4_RETURN_IF_ERROR(load_decisions());
    DSV4_RETURN_IF_ERROR(check_blocks_forced());
    DSV4_RETURN_IF_ERROR(check_head());
    DSV4_RETURN_IF_ERROR(check_mtp());
    DSV4_RETURN_IF_ERROR(check_own_decisions());
    DSV4_RETURN_IF_ERROR(check_end_to_end());
    return Status::ok();
  }

  const std::string& first_failure() const { return first_failure_; }

  KvFormat kv_format_;  // the cache's storage format (default FP32)

 private:
  int64_t s() const { return int64_t(prompt_.size()); }
  int64_t n() const { return int64_t(decode_.size()); }
  int64_t width() const { return model_->config().hc_dim(); }

  void report(const std::string& check, bool pass, const std::string& detail) {
    fmt::print("{:<34} {}  {}\n", check, detail, pass ? "ok" : "FAIL");
    if (!pass && first_failure_.empty()) first_failure_ = check;
  }

  // Reads *.layer.{i}.topk / experts (prefill rows, then decode rows) and mtp.experts.
  Status load_decisions() {
    const ModelConfig& c = model_->config();
    const auto stack = [&](const std::string& what, int layer, GoldenHook::Table& out) -> Status {
      Shape sp, sd;
      DSV4_ASSIGN_OR_RETURN(auto p, ref_.ints(fmt::format("prefill.layer.{}.{}", layer, what), &sp));
      DSV4_ASSIGN_OR_RETURN(auto d, ref_.ints(fmt::format("decode.layer.{}.{}", layer, what), &sd));
      if (sp.size() != 2 || sd.size() != 2 || sp[0] != s() || sd[0] != n() || sp[1] != sd[1])
        return Status::error("reference '{}' of layer {} has shapes {} / {}", what, layer, shape_str(sp),
                             shape_str(sd));
      out.width = sp[1];
      out.ids = std::move(p);
      out.ids.insert(out.ids.end(), d.begin(), d.end());
      return Status::ok();
    };
    for (int i = 0; i < c.n_layers; ++i) {
      DSV4_RETURN_IF_ERROR(stack("experts", i, hook_.ref_experts[i]));
      if (hook_.ref_experts[i].width != c.n_activated_experts)
        return Status::error("reference experts of layer {} have width {}", i, hook_.ref_experts[i].width);
      if (c.ratio(i) == 4) DSV4_RETURN_IF_ERROR(stack("topk", i, hook_.ref_topk[i]));
    }
    for (const auto& [layer, t] : hook_.ref_experts)
      for (int32_t e : t.ids)
        if (e < 0 || e >= c.n_routed_experts) return Status::error("reference expert id {} out of range", e);
    for (const auto& [layer, t] : hook_.ref_topk)
      for (size_t i = 0; i < t.ids.size(); ++i) {
        const int64_t pos = int64_t(i) / t.width;
        if (t.ids[i] < -1 || t.ids[i] >= (pos + 1) / 4)
          return Status::error("reference topk of layer {} holds ineligible entry {} at position {}", layer,
                               t.ids[i], pos);
      }
    if (c.n_mtp_layers) {
      Shape sh;
      DSV4_ASSIGN_OR_RETURN(auto m, ref_.ints("mtp.experts", &sh));
      if (sh.size() != 2 || sh[0] != s() || sh[1] != c.n_activated_experts)
        return Status::error("reference mtp.experts has shape {}", shape_str(sh));
      hook_.ref_experts[c.n_layers] = {std::move(m), sh[1]};
    }
    return Status::ok();
  }

  Result<std::vector<float>> ref_rows(const std::string& name, int64_t rows, int64_t w) {
    Shape sh;
    DSV4_ASSIGN_OR_RETURN(auto v, ref_.floats(name, &sh));
    if (shape_numel(sh).value_or(-1) != rows * w)
      return Status::error("reference '{}' has shape {}, expected {} rows of {}", name, shape_str(sh), rows, w);
    return v;
  }

  // Runs block i teacher-forced: prefill on prefill.block.i.in, then each decode step on decode.block.i.in[j].
  // Returns [s + n, hc, dim] outputs.
  Result<std::vector<float>> run_block_teacher_forced(int i) {
    DSV4_ASSIGN_OR_RETURN(auto x, ref_rows(fmt::format("prefill.block.{}.in", i), s(), width()));
    DSV4_ASSIGN_OR_RETURN(auto xd, ref_rows(fmt::format("decode.block.{}.in", i), n(), width()));
    KvCache cache = model_->new_cache(s() + n(), kv_format_);
    LayerState& st = cache.layers[size_t(i)];
    model_->block(i, prompt_.data(), s(), 0, st, x.data(), &hook_);
    for (int64_t j = 0; j < n(); ++j)
      model_->block(i, &decode_[size_t(j)], 1, s() + j, st, xd.data() + j * width(), &hook_);
    x.insert(x.end(), xd.begin(), xd.end());
    return x;
  }

  Result<std::vector<int32_t>> fp32tf_rows() {
    Shape sh;
    DSV4_ASSIGN_OR_RETURN(auto rows, ref_.ints("fp32tf.prefill.rows", &sh));
    for (int32_t r : rows)
      if (r < 0 || r >= s()) return Status::error("fp32tf.prefill.rows holds {} outside the prompt", r);
    return rows;
  }

  std::vector<float> select_rows(const std::vector<float>& v, const std::vector<int32_t>& rows, int64_t w) {
    std::vector<float> out;
    for (int32_t r : rows) out.insert(out.end(), v.begin() + r * w, v.begin() + (r + 1) * w);
    return out;
  }

  void report_block(const std::string& check, const RowStats& st) {
    const bool pass = st.mean_rel <= kBlockMeanRel && st.p50 <= kBlockP50 && st.p99 <= kBlockP99 &&
                      st.max <= kBlockMax;
    report(check, pass,
           fmt::format("mean_rel {:.2e} ≤ {:.0e}  p50 {:.2e} ≤ {:.0e}  p99 {:.2e} ≤ {}  max {:.2e} ≤ {}", st.mean_rel,
                       kBlockMeanRel, st.p50, kBlockP50, st.p99, kBlockP99, st.max, kBlockMax));
  }

  Status check_blocks_forced() {
    const ModelConfig& c = model_->config();
    DSV4_ASSIGN_OR_RETURN(auto rows, fp32tf_rows());
    hook_.force = true;
    std::vector<std::string> info;
    for (int i = 0; i < c.n_layers; ++i) {
      DSV4_ASSIGN_OR_RETURN(auto out, run_block_teacher_forced(i));
      const int64_t r = int64_t(rows.size());
      DSV4_ASSIGN_OR_RETURN(auto want_p, ref_rows(fmt::format("fp32tf.prefill.block.{}.out", i), r, width()));
      DSV4_ASSIGN_OR_RETURN(auto want_d, ref_rows(fmt::format("fp32tf.decode.block.{}.out", i), n(), width()));
      const std::vector<float> got_p = select_rows(out, rows, width());
      const std::string kind = attn_kind_name(c.attn_kind(i));
      report_block(fmt::format("block {} {} prefill (forced)", i, kind),
                   row_stats(got_p.data(), want_p.data(), r, width()));
      report_block(fmt::format("block {} {} decode (forced)", i, kind),
                   row_stats(out.data() + s() * width(), want_d.data(), n(), width()));
      // Informational: the BF16 reference's own block outputs, which an FP32 engine cannot follow closely.
      DSV4_ASSIGN_OR_RETURN(auto bp, ref_rows(fmt::format("prefill.block.{}.out", i), s(), width()));
      DSV4_ASSIGN_OR_RETURN(auto bd, ref_rows(fmt::format("decode.block.{}.out", i), n(), width()));
      for (const auto& [phase, got, want, count] :
           {std::tuple{"prefill", out.data(), bp.data(), s()},
            std::tuple{"decode", out.data() + s() * width(), bd.data(), n()}}) {
        const RowStats st = row_stats(got, want, count, width());
        info.push_back(fmt::format("info: block {} {} vs BF16 reference: mean_rel {:.2e} p50 {:.2e} p99 {:.2e} max {:.2e}",
                                   i, phase, st.mean_rel, st.p50, st.p99, st.max));
      }
    }
    hook_.force = false;
    for (const auto& l : info) fmt::print("{}\n", l);
    return Status::ok();
  }

  Status check_head() {
    const ModelConfig& c = model_->config();
    DSV4_ASSIGN_OR_RETURN(auto rows, fp32tf_rows());
    DSV4_ASSIGN_OR_RETURN(auto last, ref_rows(fmt::format("prefill.block.{}.out", c.n_layers - 1), s(), width()));
    const std::vector<float> x = select_rows(last, rows, width());
    const int64_t r = int64_t(rows.size()), V = c.vocab_size;
    DSV4_ASSIGN_OR_RETURN(auto want, ref_rows("fp32tf.prefill.logits", r, V));
    std::vector<float> got(static_cast<size_t>(r * V));
    model_->logits(x.data(), r, got.data());
    double mx = 0;
    for (size_t i = 0; i < got.size(); ++i) mx = std::max(mx, double(std::fabs(got[i] - want[i])));
    report("head (hc_head + norm + head)", mx <= kHeadMaxAbs, fmt::format("max|Δ| {:.2e} ≤ {:.0e}", mx, kHeadMaxAbs));
    return Status::ok();
  }

  Status check_mtp() {
    const ModelConfig& c = model_->config();
    if (c.n_mtp_layers == 0) return Status::ok();
    DSV4_ASSIGN_OR_RETURN(auto rows, fp32tf_rows());
    DSV4_ASSIGN_OR_RETURN(auto h, ref_rows(fmt::format("prefill.block.{}.out", c.n_layers - 1), s(), width()));
    if (decode_.empty()) return Status::error("the MTP check needs at least one decode id");
    std::vector<int32_t> next(prompt_.begin() + 1, prompt_.end());
    next.push_back(decode_[0]);
    const int64_t V = c.vocab_size, r = int64_t(rows.size());
    KvCache cache = model_->new_cache(s(), kv_format_);
    std::vector<float> logits(size_t(s() * V));
    hook_.force = true;
    model_->mtp_logits(0, h.data(), next.data(), s(), 0, cache, logits.data(), &hook_);
    hook_.force = false;
    DSV4_ASSIGN_OR_RETURN(auto want, ref_rows("fp32tf.mtp.logits", r, V));
    const std::vector<float> got = select_rows(logits, rows, V);
    double mx = 0;
    for (size_t i = 0; i < got.size(); ++i) mx = std::max(mx, double(std::fabs(got[i] - want[i])));
    report("mtp (forced experts)", mx <= kMtpMaxAbs, fmt::format("max|Δ| {:.2e} ≤ {}", mx, kMtpMaxAbs));
    return Status::ok();
  }

  // Teacher-forced blocks with the engine's own decisions, compared with the reference's.
  Status check_own_decisions() {
    const ModelConfig& c = model_->config();
    hook_.own_picks.clear();
    hook_.own_experts.clear();
    hook_.own_scores.clear();
    for (int i = 0; i < c.n_layers; ++i) DSV4_RETURN_IF_ERROR(run_block_teacher_forced(i).status());

    int64_t agree = 0, total = 0;
    for (const auto& [key, own] : hook_.own_experts) {
      const auto& [layer, pos] = key;
      if (layer >= c.n_layers) continue;
      const GoldenHook::Table& t = hook_.experts_of(layer);
      std::set<int32_t> a(own.begin(), own.end()), b(t.ids.begin() + pos * t.width, t.ids.begin() + (pos + 1) * t.width);
      agree += a == b;
      ++total;
    }
    const double frac = total ? double(agree) / double(total) : 1.0;
    report("experts (own decisions)", frac >= kExpertAgreement,
           fmt::format("{} of {} token-rows agree = {:.4f} ≥ {}", agree, total, frac, kExpertAgreement));

    for (const auto& [layer, t] : hook_.ref_topk) {
      Shape sh;
      DSV4_ASSIGN_OR_RETURN(auto ref_scores, ref_.floats(fmt::format("prefill.layer.{}.index_score", layer), &sh));
      if (sh.size() != 2 || sh[0] != s()) return Status::error("index_score of layer {} has shape {}", layer, shape_str(sh));
      const int64_t ncol = sh[1];
      // Prefill rows are judged with the reference's scores, decode rows (which have none stored) with the
      // engine's own scores of both sets; the unit is the layer's largest |score| in the reference.
      float scale = 0;
      for (float v : ref_scores)
        if (std::isfinite(v)) scale = std::max(scale, std::fabs(v));
      double worst = 0;
      int64_t differing = 0, rows = 0;
      for (const auto& [key, own] : hook_.own_picks) {
        const auto& [l, pos] = key;
        if (l != layer) continue;
        ++rows;
        const bool prefill = pos < s();
        const float* sc = prefill ? ref_scores.data() + pos * ncol : hook_.own_scores.at(key).data();
        const int64_t n_sc = prefill ? ncol : int64_t(hook_.own_scores.at(key).size());
        std::set<int32_t> want;
        for (int64_t i = 0; i < t.width; ++i)
          if (t.ids[size_t(pos * t.width + i)] >= 0) want.insert(t.ids[size_t(pos * t.width + i)]);
        float lowest = INFINITY;
        for (int32_t e : want) lowest = std::min(lowest, e < n_sc ? sc[e] : -INFINITY);
        bool differs = std::set<int32_t>(own.begin(), own.end()) != want;
        differing += differs;
        for (int32_t e : own)
          if (!want.count(e)) {
            const double shortfall = e < n_sc ? double(lowest) - sc[e] : INFINITY;
            worst = std::max(worst, scale > 0 ? shortfall / scale : shortfall);
          }
      }
      report(fmt::format("indexer layer {} (own decisions)", layer), worst <= kIndexerSlack,
             fmt::format("{} of {} rows differ; worst pick outside the reference {:.4f} × max|score| below its "
                         "lowest pick ≤ {}", differing, rows, worst, kIndexerSlack));
    }
    return Status::ok();
  }

  void report_e2e(const std::string& phase, const std::vector<float>& got, const std::vector<float>& want,
                  int64_t rows) {
    const int64_t V = model_->config().vocab_size;
    int64_t top1 = 0;
    double sum = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const float* g = got.data() + r * V;
      const float* w = want.data() + r * V;
      top1 += std::max_element(g, g + V) - g == std::max_element(w, w + V) - w;
      for (int64_t v = 0; v < V; ++v) sum += std::fabs(double(g[v]) - w[v]);
    }
    const double agree = double(top1) / double(rows), mean = sum / double(rows * V);
    report(fmt::format("end to end {} (own decisions)", phase), agree >= kE2eTop1 && mean <= kE2eMeanAbs,
           fmt::format("top-1 {:.3f} ≥ {}  mean|Δ| {:.3f} ≤ {}", agree, kE2eTop1, mean, kE2eMeanAbs));
  }

  Status check_end_to_end() {
    const int64_t V = model_->config().vocab_size;
    KvCache cache = model_->new_cache(s() + n(), kv_format_);
    std::vector<float> prefill(size_t(s() * V)), decode(size_t(n() * V));
    model_->forward(prompt_.data(), s(), 0, cache, prefill.data());
    for (int64_t j = 0; j < n(); ++j) model_->forward(&decode_[size_t(j)], 1, s() + j, cache, decode.data() + j * V);
    DSV4_ASSIGN_OR_RETURN(auto want_p, ref_rows("prefill.logits", s(), V));
    DSV4_ASSIGN_OR_RETURN(auto want_d, ref_rows("decode.logits", n(), V));
    report_e2e("prefill", prefill, want_p, s());
    if (n()) report_e2e("decode", decode, want_d, n());
    return Status::ok();
  }

  std::unique_ptr<Model> model_;
  Reference ref_;
  std::vector<int32_t> prompt_, decode_;
  std::string name_;
  GoldenHook hook_;
  std::string first_failure_;
};

Status read_inputs(const std::string& path, int64_t vocab, std::vector<int32_t>& prompt, std::vector<int32_t>& decode) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error("{}: cannot open", path);
  std::stringstream ss;
  ss << in.rdbuf();
  const auto j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::error("{}: not a well-formed JSON object", path);
  for (const auto& [key, out] : {std::pair<const char*, std::vector<int32_t>*>{"prompt_ids", &prompt},
                                 {"decode_ids", &decode}}) {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_array()) return Status::error("{}: '{}' must be an array of token ids", path, key);
    for (const auto& v : *it) {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= vocab)
        return Status::error("{}: '{}' holds {} which is not a token id below vocab_size {}", path, key, v.dump(), vocab);
      out->push_back(int32_t(v.get<int64_t>()));
    }
  }
  if (prompt.empty()) return Status::error("{}: 'prompt_ids' is empty", path);
  return Status::ok();
}

}  // namespace

int run_golden_check(const GoldenCheckOptions& o) {
  const auto fail = [](const Status& s) {
    fmt::print(stderr, "dsv4 golden-check: {}\n", s.message());
    return 1;
  };
  const auto format = parse_kv_format(o.kv_format);
  if (!format) return fail(format.status());
  auto model = Model::load(o.case_dir);
  if (!model) return fail(model.status());
  std::vector<int32_t> prompt, decode;
  if (Status s = read_inputs((fs::path(o.case_dir) / "inputs.json").string(), model.value()->config().vocab_size,
                             prompt, decode);
      !s)
    return fail(s);
  auto ref = Reference::open((fs::path(o.case_dir) / "reference.safetensors").string());
  if (!ref) return fail(ref.status());
  GoldenCheck check(std::move(model).value(), std::move(ref).value(), std::move(prompt), std::move(decode),
                    fs::path(o.case_dir).filename().string());
  check.kv_format_ = format.value();
  if (Status s = check.run(); !s) return fail(s);
  if (!check.first_failure().empty()) {
    fmt::print("golden-check: FAIL {}\n", check.first_failure());
    return 1;
  }
  fmt::print("golden-check: PASS\n");
  return 0;
}

}  // namespace dsv4
