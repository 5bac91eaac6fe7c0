// The dsv4 subcommands. Each returns the process exit status; errors are printed as one line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sampling_flags.h"

namespace dsv4 {

struct InspectOptions {
  std::string path;      // model directory or config.json
  int64_t ctx = 0;       // context for the KV totals; 0 = max_position_embeddings
};
int run_inspect(const InspectOptions& o);

struct KvOptions {
  std::vector<std::string> configs;     // config.json files; empty: V4-Flash and V4-Pro from configs/
  std::string ctx = "4096,32768,131072,524288,1048576";
  std::vector<std::string> kv_formats;  // empty: bf16 and fp8
  std::string csv, plot;                // files to write; empty: none
  bool json = false;                    // JSON lines instead of the table
};
int run_kv(const KvOptions& o);

struct GoldenCheckOptions {
  std::string case_dir;
  std::string kv_format = "f32";  // the KV cache's storage format (kv_rows.h names)
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

struct ServeCliOptions {
  std::string model;
  std::string host = "127.0.0.1";
  int port = 8080;            // 0: any free port (printed)
  std::string api_key;
  std::string model_id;       // default: the model directory's name
  int64_t ctx = 4096;
  int parallel = 1;
  int max_queue = 64;
  int64_t max_body_kib = 8192;
};
int run_serve(const ServeCliOptions& o);

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

struct MakeSyntheticOptions {
  std::string config;     // config.json of the model to generate
  std::string out;        // model directory to write
  std::string tokenizer;  // tokenizer.json (or its directory) to copy in; optional
  uint64_t seed = 1;
};
int run_make_synthetic(const MakeSyntheticOptions& o);

struct TrainTokenizerOptions {
  int64_t vocab = 0;
  std::string data;  // UTF-8 text file
  std::string out;   // tokenizer.json, or the directory to hold it
};
int run_train_tokenizer(const TrainTokenizerOptions& o);

struct PrepareDataOptions {
  std::string tokenizer;  // tokenizer.json or its directory
  std::string data;       // UTF-8 text file
  std::string out;        // directory for meta.json and the shards
  double val_fraction = 0.1;
  int64_t shard_tokens = 1 << 24;
};
int run_prepare_data(const PrepareDataOptions& o);

struct EvalCliOptions {
  std::string model;
  std::string data;           // a text file, or a directory from `dsv4 data prepare`
  std::string split = "val";  // with a dataset directory
  int64_t ctx = 0;            // evaluation window; 0: min(512, the model's context)
  bool json = false;
};
int run_eval(const EvalCliOptions& o);

struct TrainCliOptions {
  std::string config;      // config.json (or its directory) of the model to train
  std::string data;        // directory written by `dsv4 data prepare`
  std::string out;         // run directory: model files, log.jsonl, loss.svg, train_state.safetensors
  std::string tokenizer;   // tokenizer.json to ship with the model; empty: DATA/tokenizer.json
  std::string optimizer = "muon";
  int64_t steps = 200, batch = 8, seq = 128, grad_accum = 1, warmup = -1;
  double lr = 3e-3, clip = 0;
  int64_t eval_every = 50;  // validation + checkpoint period in steps; 0: at the end only
  int64_t val_tokens = 0;   // validation predictions; 0: the whole split
  int64_t stop_at = 0;      // stop after this step (a checkpoint; --resume continues); 0: run to --steps
  uint64_t seed = 1;
  int threads = 0;          // 0: one per core (DSV4_THREADS)
  bool resume = false;
  bool bench = false;       // time a few steps on random tokens instead (default config: configs/shakespeare-v4.json, the shipped model)
};
int run_train(const TrainCliOptions& o);

struct PlotRunsOptions {
  std::vector<std::string> runs;  // run directories of `dsv4 train` (their log.jsonl)
  std::string out;                // SVG to write; empty: the table only
  std::string title = "Validation loss";
  std::string baseline;           // a run's name: steps each run takes to reach its final validation loss
  bool train = false;             // plot the training loss instead of the validation loss
};
int run_plot_runs(const PlotRunsOptions& o);

struct BenchOptions {
  std::string model;      // model directory; empty: the synthetic model of `config`
  std::string config;     // empty: configs/bench-v4.json
  std::string cache;      // where the synthetic model is kept; empty: bench-model/ beside the binary
  int runs = 5;
  int64_t prompt = 512;   // prefill tokens (and SGEMM's M)
  int64_t decode = 32;    // decode steps
  int64_t prefill_chunk = 128;  // prompt tokens per forward call in prefill
  int threads = 0;        // 0: the default pool
  int64_t bw_mib = 1024;  // read-bandwidth buffer
  bool json = false;
  bool keep_openblas_env = false;
  // --long: one sequence grown to long_max tokens (bench_long.cc)
  bool long_run = false;
  int64_t long_max = 1048576;
  int64_t chunk = 4096;            // prefill tokens per call
  std::string kv_format = "fp8";   // KV storage of the long run
  std::string long_out = "bench-long";  // writes <long_out>.csv, -memory.svg, -speed.svg
};
int run_bench(const BenchOptions& o);

}  // namespace dsv4
