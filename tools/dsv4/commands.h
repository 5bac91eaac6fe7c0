// The dsv4 subcommands. Each returns the process exit status; errors are printed as one line.
#pragma once

#include <cstdint>
#include <string>

#include "sampling_flags.h"

namespace dsv4 {

struct InspectOptions {
  std::string path;      // model directory or config.json
  int64_t ctx = 0;       // context for the KV totals; 0 = max_position_embeddings
};
int run_inspect(const InspectOptions& o);

struct GoldenCheckOptions {
  std::string case_dir;
};
int run_golden_check(const GoldenCheckOptions& o);

struct RunOptions {
  std::string model;     // model directory (checkpoint + tokenizer)
  std::string prompt;
  bool chat = false;     // wrap the prompt in the V4 chat format
  bool think = false;    // thinking mode (with chat)
  std::string effort;    // reasoning effort (with think): "high" or "max"
  GenerationFlags gen;
};
int run_run(const RunOptions& o);

struct ChatOptionsCli {
  std::string model;
  bool think = false;
  std::string effort;
  GenerationFlags gen;
};
int run_chat(const ChatOptionsCli& o);

struct TokenizeOptions {
  std::string tokenizer;  // tokenizer.json or a directory holding it
  bool decode = false;    // JSON ids on stdin → text
  bool pieces = false;    // print [id, piece] pairs instead of ids
  bool bos = false;       // add BOS as tokenizer_config.json asks
};
int run_tokenize(const TokenizeOptions& o);

int run_render();  // {"messages", "tools", "options"} on stdin → the exact prompt on stdout

struct ParseOptions {
  bool lenient = false;
};
int run_parse(const ParseOptions& o);  // {"completion", "thinking"} on stdin → the parsed message as JSON

}  // namespace dsv4
