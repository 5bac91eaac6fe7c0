// dsv4 tokenizer train / data prepare: from raw text to a tokenizer and to token shards for training.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "app/model_bundle.h"
#include "app/token_shards.h"
#include "commands.h"
#include "io/files.h"
#include "text/bpe_trainer.h"

namespace dsv4 {

namespace {

int fail(const char* command, const Status& s) {
  fmt::print(stderr, "dsv4 {}: {}\n", command, s.message());
  return 1;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// --out names tokenizer.json itself or the directory to hold it; tokenizer_config.json goes beside it.
std::filesystem::path tokenizer_path(const std::string& out) {
  std::filesystem::path p(out);
  return p.extension() == ".json" ? p : p / "tokenizer.json";
}

Status train_tokenizer(const TrainTokenizerOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  DSV4_ASSIGN_OR_RETURN(const std::string text, read_file(o.data));
  auto trained = train_bpe(text, o.vocab);
  if (!trained) return trained.status().with_context(o.data + ": ");
  const std::filesystem::path json = tokenizer_path(o.out);
  std::error_code ec;
  if (json.has_parent_path()) std::filesystem::create_directories(json.parent_path(), ec);
  if (ec) return Status::error("{}: cannot create the directory: {}", json.parent_path().string(), ec.message());
  DSV4_RETURN_IF_ERROR(write_file_atomically(json.string(), tokenizer_json_text(trained.value())));
  const std::filesystem::path config = json.parent_path() / "tokenizer_config.json";
  DSV4_RETURN_IF_ERROR(write_file_atomically(config.string(), tokenizer_config_json_text(trained.value())));
  const BpeTraining& t = trained.value();
  if (t.vocab_size() < o.vocab)
    fmt::print(stderr, "dsv4 tokenizer train: the text has no pair left to merge after {} ids (asked for {})\n",
               t.vocab_size(), o.vocab);
  fmt::print("{}: {} ids ({} control strings, 256 bytes, {} merges) from {} bytes in {:.1f} s\n", json.string(),
             t.vocab_size(), t.special_tokens.size(), t.merges.size(), text.size(), seconds_since(t0));
  return Status::ok();
}

Status prepare_data(const PrepareDataOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  DSV4_ASSIGN_OR_RETURN(const Tokenizer tok, load_tokenizer(o.tokenizer));
  DSV4_ASSIGN_OR_RETURN(const std::string text, read_file(o.data));
  PrepareOptions p;
  p.val_fraction = o.val_fraction;
  p.shard_tokens = o.shard_tokens;
  auto shards = prepare_token_shards(text, tok, o.out, p);
  if (!shards) return shards.status().with_context(o.data + ": ");
  for (const auto& [name, s] : {std::pair<const char*, const TokenSplit&>{"train", shards->train},
                                {"val", shards->val}})
    fmt::print("{}: {} tokens from {} bytes ({:.3f} bytes per token)\n", name, s.tokens.size(), s.text_bytes,
               double(s.text_bytes) / double(std::max<size_t>(s.tokens.size(), 1)));
  fmt::print("{}: written in {:.1f} s\n", o.out, seconds_since(t0));
  return Status::ok();
}

}  // namespace

int run_train_tokenizer(const TrainTokenizerOptions& o) {
  const Status s = train_tokenizer(o);
  return s ? 0 : fail("tokenizer train", s);
}

int run_prepare_data(const PrepareDataOptions& o) {
  const Status s = prepare_data(o);
  return s ? 0 : fail("data prepare", s);
}

}  // namespace dsv4
