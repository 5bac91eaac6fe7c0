#include "app/model_bundle.h"

#include <filesystem>

#include "text/chat_tokens.h"

namespace dsv4 {

namespace fs = std::filesystem;

Result<Tokenizer> load_tokenizer(const std::string& path) {
  std::error_code ec;
  const fs::path file = fs::is_directory(path, ec) ? fs::path(path) / "tokenizer.json" : fs::path(path);
  const fs::path config = file.parent_path() / "tokenizer_config.json";
  if (!fs::exists(file, ec)) return Status::error("{}: no tokenizer.json", file.string());
  DSV4_ASSIGN_OR_RETURN(Tokenizer t, Tokenizer::load(file.string(), fs::exists(config, ec) ? config.string() : ""));
  DSV4_RETURN_IF_ERROR(t.add_special_tokens({std::string(kThinkStart), std::string(kThinkEnd), "｜DSML｜"})
                           .with_context(file.string() + ": "));
  return t;
}

Result<ModelBundle> load_model_bundle(const std::string& dir) {
  DSV4_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::load(dir));
  DSV4_ASSIGN_OR_RETURN(Tokenizer tokenizer, load_tokenizer(dir));
  const ModelConfig& c = model->config();
  if (tokenizer.vocab_size() > c.vocab_size)
    return Status::error("{}: the tokenizer has {} ids but the model's vocabulary has {}", dir,
                         tokenizer.vocab_size(), c.vocab_size);
  return ModelBundle{std::move(model), std::move(tokenizer), int32_t(c.eos_token_id)};
}

}  // namespace dsv4
