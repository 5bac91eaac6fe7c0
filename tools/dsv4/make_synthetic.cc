// dsv4 make-synthetic: a random-weight model directory for a config (model/synthetic.h), optionally with
// a tokenizer so that `run` and `chat` accept it.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "commands.h"
#include "model/synthetic.h"

namespace dsv4 {

namespace {

Status copy_tokenizer(const std::string& from, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path src = fs::is_directory(from, ec) ? fs::path(from) : fs::path(from).parent_path();
  const fs::path json = fs::is_directory(from, ec) ? src / "tokenizer.json" : fs::path(from);
  if (!fs::is_regular_file(json, ec)) return Status::error("{}: no tokenizer.json", from);
  if (!fs::copy_file(json, fs::path(dir) / "tokenizer.json", fs::copy_options::overwrite_existing, ec))
    return Status::error("{}: cannot copy into {}: {}", json.string(), dir, ec.message());
  const fs::path config = src / "tokenizer_config.json";
  if (fs::is_regular_file(config, ec) &&
      !fs::copy_file(config, fs::path(dir) / "tokenizer_config.json", fs::copy_options::overwrite_existing, ec))
    return Status::error("{}: cannot copy into {}: {}", config.string(), dir, ec.message());
  return Status::ok();
}

}  // namespace

int run_make_synthetic(const MakeSyntheticOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  Status st = write_synthetic_model(o.config, o.out, o.seed, default_thread_pool());
  if (st.is_ok() && !o.tokenizer.empty()) st = copy_tokenizer(o.tokenizer, o.out);
  if (!st.is_ok()) {
    fmt::print(stderr, "dsv4 make-synthetic: {}\n", st.message());
    return 1;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(std::filesystem::path(o.out) / "model.safetensors", ec);
  fmt::print(stderr, "make-synthetic: {}/model.safetensors, {} bytes, seed {}, {:.1f} s\n", o.out, bytes, o.seed, s);
  return 0;
}

}  // namespace dsv4
