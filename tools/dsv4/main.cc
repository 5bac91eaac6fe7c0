// dsv4: the command-line front end. Thin: parses arguments and calls one command.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"dsv4: DeepSeek-V4 inference and training on CPU"};
  app.require_subcommand(1);

  dsv4::InspectOptions inspect;
  auto* ins = app.add_subcommand("inspect", "Layer schedule, parameter counts, bytes by dtype, KV cache size");
  ins->add_option("model", inspect.path, "model directory or config.json")->required();
  ins->add_option("--ctx", inspect.ctx, "context length for the KV totals (default: max_position_embeddings)")
      ->check(CLI::PositiveNumber);

  dsv4::KvOptions kv;
  auto* kvc = app.add_subcommand("kv", "KV cache bytes per token and per context, by kind and format, vs V3.2");
  kvc->add_option("--config", kv.configs, "config.json (repeatable; default: V4-Flash and V4-Pro)");
  kvc->add_option("--ctx", kv.ctx, "context lengths, comma-separated (default: 4K,32K,128K,512K,1M)");
  kvc->add_option("--kv-format", kv.kv_formats, "bf16, fp8, fp8-idx8 or f32 (repeatable; default: bf16 and fp8)");
  kvc->add_option("--csv", kv.csv, "write every row as CSV");
  kvc->add_option("--plot", kv.plot, "write an SVG of bytes vs context (log axes)");
  kvc->add_flag("--json", kv.json, "one JSON object per config, format and context instead of the table");

  dsv4::GoldenCheckOptions golden;
  auto* gc = app.add_subcommand("golden-check", "Check the engine against an official-reference golden case");
  gc->add_option("case", golden.case_dir, "golden case directory")->required();
  gc->add_option("--kv-format", golden.kv_format, "KV cache storage: f32 (default), bf16, fp8, fp8-idx8");

  dsv4::RunOptions run;
  auto* rn = app.add_subcommand("run", "Complete one prompt, streaming the output");
  rn->add_option("-m,--model", run.model, "model directory (config.json, safetensors, tokenizer.json)")->required();
  rn->add_option("-p,--prompt", run.prompt, "the prompt")->required();
  rn->add_flag("--chat", run.chat, "wrap the prompt in the V4 chat format (one user turn)");
  rn->add_flag("--think", run.think, "thinking mode (implies --chat)");
  rn->add_option("--effort", run.effort, "reasoning effort in thinking mode")->check(CLI::IsMember({"high", "max"}));
  dsv4::add_generation_flags(rn, run.gen);

  dsv4::ChatOptionsCli chat;
  auto* ch = app.add_subcommand("chat", "Interactive multi-turn chat (/reset, /think on|off, /effort, /exit)");
  ch->add_option("-m,--model", chat.model, "model directory")->required();
  ch->add_flag("--think", chat.think, "start in thinking mode");
  ch->add_option("--effort", chat.effort, "reasoning effort in thinking mode")->check(CLI::IsMember({"high", "max"}));
  dsv4::add_generation_flags(ch, chat.gen);

  dsv4::ServeCliOptions serve;
  auto* sv = app.add_subcommand("serve", "OpenAI-compatible HTTP server (chat, completions, streaming, tool calls)");
  sv->add_option("-m,--model", serve.model, "model directory")->required();
  sv->add_option("--host", serve.host, "address to bind (default: loopback only)");
  sv->add_option("--port", serve.port, "port (0: any free port, printed on stdout)")->check(CLI::Range(0, 65535));
  sv->add_option("--api-key", serve.api_key, "require 'Authorization: Bearer KEY' on /v1/ routes");
  sv->add_option("--model-id", serve.model_id, "the model's id in the API (default: the directory's name)");
  sv->add_option("-c,--ctx", serve.ctx, "context length per session in tokens")->check(CLI::PositiveNumber);
  sv->add_option("--parallel", serve.parallel, "sessions decoding together")->check(CLI::Range(1, 256));
  sv->add_option("--max-queue", serve.max_queue, "requests waiting for a session before 429")->check(CLI::Range(0, 4096));
  sv->add_option("--max-body-kib", serve.max_body_kib, "largest request body in KiB (413 beyond)")
      ->check(CLI::PositiveNumber);

  dsv4::TokenizeOptions tok;
  auto* tk = app.add_subcommand("tokenize", "Text on stdin → JSON array of token ids (or the reverse)");
  tk->add_option("--tokenizer,-m", tok.tokenizer, "tokenizer.json, or a directory holding it")->required();
  bool ids_flag = false;  // the default output; accepted for explicitness
  tk->add_flag("--ids", ids_flag, "print token ids (the default)");
  tk->add_flag("--pieces", tok.pieces, "print [id, piece] pairs");
  tk->add_flag("--bos", tok.bos, "prepend BOS as tokenizer_config.json asks");
  tk->add_flag("--decode", tok.decode, "read a JSON array of ids, print the text");

  dsv4::TrainTokenizerOptions train_tok;
  auto* tkz = app.add_subcommand("tokenizer", "Tokenizer tools");
  tkz->require_subcommand(1);
  auto* tkt = tkz->add_subcommand("train", "Train a byte-level BPE tokenizer (Hugging Face tokenizer.json) on text");
  tkt->add_option("--vocab", train_tok.vocab, "ids in all: 17 control strings + 256 bytes + merges")
      ->required()->check(CLI::PositiveNumber);
  tkt->add_option("--data", train_tok.data, "UTF-8 text file")->required();
  tkt->add_option("--out", train_tok.out, "tokenizer.json to write, or its directory")->required();

  dsv4::PrepareDataOptions prep;
  auto* dat = app.add_subcommand("data", "Dataset tools");
  dat->require_subcommand(1);
  auto* dpr = dat->add_subcommand("prepare", "Tokenize text into train/validation token shards");
  dpr->add_option("--tokenizer,-m", prep.tokenizer, "tokenizer.json, or a directory holding it")->required();
  dpr->add_option("--data", prep.data, "UTF-8 text file")->required();
  dpr->add_option("--out", prep.out, "directory for meta.json and the shards")->required();
  dpr->add_option("--val-fraction", prep.val_fraction, "share of the text (its end) held out for validation")
      ->check(CLI::Range(0.0, 1.0));
  dpr->add_option("--shard-tokens", prep.shard_tokens, "most tokens per shard file")->check(CLI::PositiveNumber);

  dsv4::EvalCliOptions ev;
  auto* evc = app.add_subcommand("eval", "Validation loss of a model on a text or a prepared dataset");
  evc->add_option("-m,--model", ev.model, "model directory (its tokenizer encodes a text file)")->required();
  evc->add_option("--data", ev.data, "a UTF-8 text file, or a directory written by `dsv4 data prepare`")->required();
  evc->add_option("--split", ev.split, "split of a dataset directory")->check(CLI::IsMember({"train", "val"}));
  evc->add_option("--ctx", ev.ctx, "tokens per evaluation window (default: min(512, the model's context))")
      ->check(CLI::Range(int64_t(2), int64_t(1) << 40));
  evc->add_flag("--json", ev.json, "one JSON line on stdout");

  dsv4::TrainCliOptions tr;
  auto* trc = app.add_subcommand("train", "Train a DeepSeek-V4 model on prepared token shards (CPU, FP32)");
  trc->add_option("--config", tr.config, "config.json of the model (or its directory)");
  trc->add_option("--data", tr.data, "directory written by `dsv4 data prepare`");
  trc->add_option("--out", tr.out, "run directory: model, log.jsonl, loss.svg, train_state.safetensors");
  trc->add_option("--tokenizer", tr.tokenizer, "tokenizer.json to ship with the model (default: DATA/tokenizer.json)");
  trc->add_option("--optimizer", tr.optimizer, "muon: Muon for hidden matrices, AdamW for the rest; adamw: all AdamW")
      ->check(CLI::IsMember({"muon", "adamw"}));
  trc->add_option("--steps", tr.steps, "optimizer steps (the schedule's length)")->check(CLI::PositiveNumber);
  trc->add_option("--batch", tr.batch, "windows per micro-batch")->check(CLI::PositiveNumber);
  trc->add_option("--seq", tr.seq, "tokens per window")->check(CLI::PositiveNumber);
  trc->add_option("--grad-accum", tr.grad_accum, "micro-batches per step")->check(CLI::PositiveNumber);
  trc->add_option("--lr", tr.lr, "peak learning rate")->check(CLI::PositiveNumber);
  trc->add_option("--warmup", tr.warmup, "warm-up steps (default: min(100, steps/10))")->check(CLI::NonNegativeNumber);
  trc->add_option("--clip", tr.clip, "clip the global gradient norm to this (0: off)")->check(CLI::NonNegativeNumber);
  trc->add_option("--eval-every", tr.eval_every, "validate and checkpoint every N steps (0: at the end only)")
      ->check(CLI::NonNegativeNumber);
  trc->add_option("--val-tokens", tr.val_tokens, "validation predictions (0: the whole split)")
      ->check(CLI::NonNegativeNumber);
  trc->add_option("--stop-at", tr.stop_at, "stop after this step with a checkpoint (continue with --resume)")
      ->check(CLI::NonNegativeNumber);
  trc->add_option("--seed", tr.seed, "initialisation and data-order seed");
  trc->add_option("--threads", tr.threads, "windows in parallel (default: one per core); results depend on it")
      ->check(CLI::PositiveNumber);
  trc->add_flag("--resume", tr.resume, "continue the run saved in --out (same flags)");
  trc->add_flag("--bench", tr.bench, "print training throughput (tokens/s) on random tokens (default --config: configs/shakespeare-v4.json)");

  dsv4::PlotRunsOptions plot;
  auto* plc = app.add_subcommand("plot-runs", "Compare training runs: a table of validation losses and an SVG of the curves");
  plc->add_option("runs", plot.runs, "run directories written by `dsv4 train`")->required();
  plc->add_option("--out", plot.out, "SVG file of the curves");
  plc->add_option("--title", plot.title, "the plot's title");
  plc->add_option("--baseline", plot.baseline, "run name: the step at which each run reaches its final validation loss");
  plc->add_flag("--train", plot.train, "plot the training loss instead");

  auto* rd = app.add_subcommand("render", "Chat request JSON on stdin → the exact V4 prompt on stdout");

  dsv4::ParseOptions parse;
  auto* ps = app.add_subcommand("parse", "{\"completion\", \"thinking\"} on stdin → reasoning, content, tool calls");
  ps->add_flag("--lenient", parse.lenient, "accept what the strict reference parser rejects, where it can");

  dsv4::MakeSyntheticOptions synth;
  auto* ms = app.add_subcommand("make-synthetic", "Write a random-weight checkpoint in the official layout");
  ms->add_option("--config", synth.config, "config.json of the model")->required();
  ms->add_option("--out", synth.out, "model directory to write")->required();
  ms->add_option("--seed", synth.seed, "random seed (same seed: identical files)");
  ms->add_option("--tokenizer", synth.tokenizer, "tokenizer.json (or its directory) to copy into the model");

  dsv4::BenchOptions bench;
  auto* bn = app.add_subcommand("bench", "End-to-end decode/prefill speed vs read bandwidth and OpenBLAS SGEMM");
  auto* bench_model = bn->add_option("-m,--model", bench.model, "model directory (default: a synthetic model)");
  bn->add_option("--config", bench.config, "config of the synthetic model (default: configs/bench-v4.json)")
      ->excludes(bench_model);
  bn->add_option("--cache", bench.cache, "directory of the synthetic model (default: bench-model/ beside dsv4)")
      ->excludes(bench_model);
  bn->add_option("--runs", bench.runs, "rounds of measurements; medians are reported")->check(CLI::PositiveNumber);
  bn->add_option("--prompt", bench.prompt, "prefill tokens")->check(CLI::PositiveNumber);
  bn->add_option("--decode", bench.decode, "decode steps")->check(CLI::PositiveNumber);
  bn->add_option("--prefill-chunk", bench.prefill_chunk, "prompt tokens per forward call in prefill")
      ->check(CLI::PositiveNumber);
  bn->add_option("--threads", bench.threads, "threads (default: one per core)")->check(CLI::PositiveNumber);
  bn->add_option("--bw-mib", bench.bw_mib, "read-bandwidth buffer in MiB")->check(CLI::PositiveNumber);
  bn->add_flag("--json", bench.json, "one JSON line on stdout");
  bn->add_flag("--long", bench.long_run,
               "long-context run instead: prefill to --long-max in chunks, record at 4K…1M (default model: "
               "configs/long-v4.json)");
  bn->add_option("--long-max", bench.long_max, "--long: context to reach (default 1048576)")->check(CLI::PositiveNumber);
  bn->add_option("--chunk", bench.chunk, "--long: prefill tokens per call (default 4096)")->check(CLI::PositiveNumber);
  bn->add_option("--kv-format", bench.kv_format, "--long: KV storage f32, bf16, fp8 (default), fp8-idx8");
  bn->add_option("--long-out", bench.long_out, "--long: output prefix for .csv, -memory.svg, -speed.svg");
  bn->add_flag("--keep-openblas-env", bench.keep_openblas_env,
               "do not re-run without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (*ins) return dsv4::run_inspect(inspect);
  if (*kvc) return dsv4::run_kv(kv);
  if (*gc) return dsv4::run_golden_check(golden);
  if (*rn) {
    run.chat = run.chat || run.think;
    return dsv4::run_run(run);
  }
  if (*ch) return dsv4::run_chat(chat);
  if (*sv) return dsv4::run_serve(serve);
  if (*tk) return dsv4::run_tokenize(tok);
  if (*tkt) return dsv4::run_train_tokenizer(train_tok);
  if (*dpr) return dsv4::run_prepare_data(prep);
  if (*evc) return dsv4::run_eval(ev);
  if (*rd) return dsv4::run_render();
  if (*ps) return dsv4::run_parse(parse);
  if (*ms) return dsv4::run_make_synthetic(synth);
  if (*bn) return dsv4::run_bench(bench);
  if (*trc) return dsv4::run_train(tr);
  if (*plc) return dsv4::run_plot_runs(plot);
  return 2;
}
