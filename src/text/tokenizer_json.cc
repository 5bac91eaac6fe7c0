#include "text/tokenizer_json.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace dsv4 {

using json = nlohmann::json;

namespace {

Result<json> read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error("{}: cannot open the file (scripts/setup.sh fetches the DeepSeek tokenizer)", path);
  std::ostringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::error("{}: not valid JSON", path);
  if (!j.is_object()) return Status::error("{}: the top level is not a JSON object", path);
  return j;
}

// True when j has `key` set to something other than null, false, 0 or "" (the "feature off" values).
bool is_set(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) return !it->get<std::string>().empty();
  if (it->is_number()) return it->get<double>() != 0;
  return true;
}

std::string type_of(const json& j) {
  const auto it = j.find("type");
  return it != j.end() && it->is_string() ? it->get<std::string>() : "(no type)";
}

Status check_normalizer(const json& root) {
  const auto it = root.find("normalizer");
  if (it == root.end() || it->is_null()) return Status::ok();
  const json& n = *it;
  if (type_of(n) == "Sequence" && n.contains("normalizers") && n["normalizers"].is_array() && n["normalizers"].empty())
    return Status::ok();
  return Status::error("normalizer '{}' is not supported (only none or an empty Sequence)", type_of(n));
}

Result<SplitSpec> read_split(const json& p) {
  const auto pattern = p.find("pattern");
  if (pattern == p.end() || !pattern->is_object()) return Status::error("Split has no 'pattern' object");
  SplitSpec s;
  if (pattern->contains("Regex") && (*pattern)["Regex"].is_string()) {
    s.pattern = (*pattern)["Regex"].get<std::string>();
    s.is_regex = true;
  } else if (pattern->contains("String") && (*pattern)["String"].is_string()) {
    s.pattern = (*pattern)["String"].get<std::string>();
    s.is_regex = false;
  } else {
    return Status::error("Split pattern is neither {{\"Regex\": ...}} nor {{\"String\": ...}}");
  }
  const auto behavior = p.find("behavior");
  if (behavior == p.end() || !behavior->is_string()) return Status::error("Split has no 'behavior' string");
  const auto b = split_behavior_from_name(behavior->get<std::string>());
  if (!b) return Status::error("Split behavior '{}' is unknown", behavior->get<std::string>());
  s.behavior = *b;
  s.invert = is_set(p, "invert");
  return s;
}

Status read_pre_tokenizer(const json& root, TokenizerSpec& spec) {
  const auto it = root.find("pre_tokenizer");
  if (it == root.end() || it->is_null())
    return Status::error("pre_tokenizer is missing; a byte-level BPE needs a ByteLevel pre-tokenizer");
  std::vector<json> steps;
  if (type_of(*it) == "Sequence") {
    const auto list = it->find("pretokenizers");
    if (list == it->end() || !list->is_array()) return Status::error("pre_tokenizer Sequence has no list");
    steps.assign(list->begin(), list->end());
  } else {
    steps.push_back(*it);
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    const json& p = steps[i];
    const std::string type = type_of(p);
    if (type == "Split") {
      auto split = read_split(p);
      if (!split) return split.status().with_context(fmt::format("pre_tokenizer step {}: ", i));
      spec.splits.push_back(std::move(split).value());
    } else if (type == "ByteLevel") {
      if (i + 1 != steps.size()) return Status::error("pre_tokenizer step {}: ByteLevel must be the last step", i);
      if (is_set(p, "add_prefix_space"))
        return Status::error("pre_tokenizer ByteLevel with add_prefix_space is not supported");
      if (p.contains("use_regex") && p["use_regex"] != false)
        return Status::error("pre_tokenizer ByteLevel with use_regex is not supported (set it false, add a Split)");
    } else {
      return Status::error("pre_tokenizer step {}: type '{}' is not supported", i, type);
    }
  }
  if (steps.empty() || type_of(steps.back()) != "ByteLevel")
    return Status::error("pre_tokenizer does not end in ByteLevel; only byte-level BPE is supported");
  return Status::ok();
}

Status read_merge(const json& m, size_t rank, TokenizerSpec& spec) {
  if (m.is_string()) {
    // The older format, "left right": byte-level text has no spaces, so there is exactly one.
    const std::string s = m.get<std::string>();
    const size_t space = s.find(' ');
    if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
      return Status::error("model.merges[{}] '{}' is not two tokens separated by one space", rank, s);
    spec.merges.emplace_back(s.substr(0, space), s.substr(space + 1));
  } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
    spec.merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
  } else {
    return Status::error("model.merges[{}] is neither \"left right\" nor [\"left\", \"right\"]", rank);
  }
  return Status::ok();
}

Status read_model(const json& root, TokenizerSpec& spec) {
  const auto it = root.find("model");
  if (it == root.end() || !it->is_object()) return Status::error("'model' is missing");
  const json& m = *it;
  if (m.contains("type") && type_of(m) != "BPE") return Status::error("model type '{}' is not BPE", type_of(m));
  for (const char* key :
       {"dropout", "byte_fallback", "ignore_merges", "continuing_subword_prefix", "end_of_word_suffix"}) {
    if (is_set(m, key)) return Status::error("model.{} is set; dsv4's BPE does not support it", key);
  }
  const auto vocab = m.find("vocab");
  if (vocab == m.end() || !vocab->is_object()) return Status::error("model.vocab is not an object");
  spec.vocab.reserve(vocab->size());
  for (const auto& [token, id] : vocab->items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
      return Status::error("model.vocab['{}'] is not an id in [0, 2^31)", token);
    spec.vocab.emplace_back(token, int32_t(id.get<int64_t>()));
  }
  const auto merges = m.find("merges");
  if (merges == m.end() || !merges->is_array()) return Status::error("model.merges is not an array");
  spec.merges.reserve(merges->size());
  for (size_t i = 0; i < merges->size(); ++i) DSV4_RETURN_IF_ERROR(read_merge((*merges)[i], i, spec));
  return Status::ok();
}

Status read_added_tokens(const json& root, TokenizerSpec& spec) {
  const auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return Status::ok();
  if (!it->is_array()) return Status::error("added_tokens is not an array");
  for (size_t i = 0; i < it->size(); ++i) {
    const json& t = (*it)[i];
    if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || t["id"].get<int64_t>() < 0 ||
        t["id"].get<int64_t>() > INT32_MAX || !t.contains("content") || !t["content"].is_string() ||
        t["content"].get<std::string>().empty())
      return Status::error("added_tokens[{}] needs an id in [0, 2^31) and a non-empty 'content'", i);
    for (const char* key : {"lstrip", "rstrip", "single_word"}) {
      if (is_set(t, key)) return Status::error("added_tokens[{}].{} is set; dsv4 does not support it", i, key);
    }
    spec.added_tokens.push_back(
        {int32_t(t["id"].get<int64_t>()), t["content"].get<std::string>(), is_set(t, "special")});
  }
  return Status::ok();
}

// A config token is either a string or an AddedToken object {"content": ...}.
Result<std::optional<std::string>> read_config_token(const json& config, const char* key) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::optional<std::string>();
  if (it->is_string()) return std::optional<std::string>(it->get<std::string>());
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return std::optional<std::string>((*it)["content"].get<std::string>());
  return Status::error("'{}' is neither a string nor an object with a 'content' string", key);
}

}  // namespace

Result<TokenizerSpec> read_tokenizer_json(const std::string& path) {
  DSV4_ASSIGN_OR_RETURN(const json root, read_json(path));
  TokenizerSpec spec;
  Status st = check_normalizer(root);
  if (st) st = read_pre_tokenizer(root, spec);
  if (st) st = read_model(root, spec);
  if (st) st = read_added_tokens(root, spec);
  if (st && (!root.contains("decoder") || type_of(root["decoder"]) != "ByteLevel"))
    st = Status::error("decoder is not ByteLevel; only byte-level BPE is supported");
  if (!st) return st.with_context(path + ": ");
  return spec;
}

Result<TokenizerConfigSpec> read_tokenizer_config(const std::string& path) {
  DSV4_ASSIGN_OR_RETURN(const json root, read_json(path));
  TokenizerConfigSpec config;
  auto bos = read_config_token(root, "bos_token");
  if (!bos) return bos.status().with_context(path + ": ");
  auto eos = read_config_token(root, "eos_token");
  if (!eos) return eos.status().with_context(path + ": ");
  config.bos_token = std::move(bos).value();
  config.eos_token = std::move(eos).value();
  const auto add_bos = root.find("add_bos_token");
  if (add_bos != root.end() && !add_bos->is_null()) {
    if (!add_bos->is_boolean()) return Status::error("{}: add_bos_token is not a boolean", path);
    config.add_bos_token = add_bos->get<bool>();
  }
  if (is_set(root, "add_eos_token")) return Status::error("{}: add_eos_token is set; dsv4 does not support it", path);
  return config;
}

}  // namespace dsv4
