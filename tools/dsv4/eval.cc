// dsv4 eval: a model's loss on a text or on a prepared dataset split, per token and per byte.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/model_bundle.h"
#include "app/token_shards.h"
#include "commands.h"
#include "io/files.h"
#include "runtime/evaluate.h"

namespace dsv4 {

namespace {

struct EvalData {
  std::vector<int32_t> tokens;
  int64_t text_bytes = 0;
};

// A dataset directory (meta.json) gives its split; a text file is encoded with the model's tokenizer.
Result<EvalData> eval_data(const EvalCliOptions& o, const Model& model) {
  EvalData d;
  if (std::filesystem::is_directory(o.data)) {
    DSV4_ASSIGN_OR_RETURN(TokenShards shards, load_token_shards(o.data));
    if (shards.vocab_size > model.config().vocab_size)
      return Status::error("{}: the dataset's vocabulary ({}) is larger than the model's ({})", o.data,
                           shards.vocab_size, model.config().vocab_size);
    TokenSplit& s = o.split == "train" ? shards.train : shards.val;
    d.tokens = std::move(s.tokens);
    d.text_bytes = s.text_bytes;
    return d;
  }
  DSV4_ASSIGN_OR_RETURN(const Tokenizer tok, load_tokenizer(o.model));
  DSV4_ASSIGN_OR_RETURN(const std::string text, read_file(o.data));
  auto ids = tok.encode_with_bos(text);
  if (!ids) return ids.status().with_context(o.data + ": ");
  d.tokens = std::move(ids).value();
  d.text_bytes = int64_t(text.size());
  return d;
}

Status eval(const EvalCliOptions& o) {
  DSV4_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::load(o.model));
  DSV4_ASSIGN_OR_RETURN(const EvalData d, eval_data(o, *model));
  if (d.tokens.size() < 2) return Status::error("{}: fewer than 2 tokens: nothing to predict", o.data);
  EvalOptions eo;
  eo.window = o.ctx > 0 ? o.ctx : std::min<int64_t>(512, model->config().max_position_embeddings);
  if (isatty(2))
    eo.progress = [](int64_t done, int64_t total) { fmt::print(stderr, "\reval: {}/{} tokens", done, total); };
  const auto t0 = std::chrono::steady_clock::now();
  auto totals = evaluate_tokens(*model, d.tokens, eo);
  if (isatty(2)) fmt::print(stderr, "\n");
  if (!totals) return totals.status().with_context(o.data + ": ");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // The mean loss stands for every token of the text: the bytes per token of the whole text convert it.
  const double per_token = totals->nats_per_token();
  const double per_byte = per_token * double(d.tokens.size()) / double(std::max<int64_t>(d.text_bytes, 1));
  if (o.json) {
    nlohmann::ordered_json j;
    j["tokens"] = d.tokens.size();
    j["predicted"] = totals->predicted;
    j["text_bytes"] = d.text_bytes;
    j["window"] = eo.window;
    j["nats_per_token"] = per_token;
    j["nats_per_byte"] = per_byte;
    j["bits_per_byte"] = per_byte / std::log(2.0);
    j["seconds"] = seconds;
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("{} tokens ({} bytes, {} predicted, windows of {}): {:.4f} nats/token, {:.4f} nats/byte, "
               "{:.4f} bits/byte ({:.1f} s, {:.0f} tok/s)\n", d.tokens.size(), d.text_bytes, totals->predicted,
               eo.window, per_token, per_byte, per_byte / std::log(2.0), seconds,
               double(d.tokens.size()) / std::max(seconds, 1e-9));
  }
  return Status::ok();
}

}  // namespace

int run_eval(const EvalCliOptions& o) {
  if (Status s = eval(o); !s) {
    fmt::print(stderr, "dsv4 eval: {}\n", s.message());
    return 1;
  }
  return 0;
}

}  // namespace dsv4
