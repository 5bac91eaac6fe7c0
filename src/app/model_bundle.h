// A model directory as users hand it to dsv4: the checkpoint (config.json + safetensors) and its
// tokenizer (tokenizer.json + tokenizer_config.json). Loads both and checks that they fit together.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "model/model.h"
#include "text/tokenizer.h"

namespace dsv4 {

struct ModelBundle {
  std::unique_ptr<Model> model;
  Tokenizer tokenizer;
  int32_t eos_id = 1;  // the model config's eos_token_id: generation stops there
};

// The V4 chat format's control strings are registered as special tokens when the tokenizer lacks them
// (the DeepSeek-V3 vocabulary does; V4's own tokenizer.json carries them).
Result<ModelBundle> load_model_bundle(const std::string& dir);

// The tokenizer alone: a tokenizer.json file, or a directory holding one (and tokenizer_config.json).
Result<Tokenizer> load_tokenizer(const std::string& path);

}  // namespace dsv4
