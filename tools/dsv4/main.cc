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

  dsv4::GoldenCheckOptions golden;
  auto* gc = app.add_subcommand("golden-check", "Check the engine against an official-reference golden case");
  gc->add_option("case", golden.case_dir, "golden case directory")->required();

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

  dsv4::TokenizeOptions tok;
  auto* tk = app.add_subcommand("tokenize", "Text on stdin → JSON array of token ids (or the reverse)");
  tk->add_option("--tokenizer,-m", tok.tokenizer, "tokenizer.json, or a directory holding it")->required();
  bool ids_flag = false;  // the default output; accepted for explicitness
  tk->add_flag("--ids", ids_flag, "print token ids (the default)");
  tk->add_flag("--pieces", tok.pieces, "print [id, piece] pairs");
  tk->add_flag("--bos", tok.bos, "prepend BOS as tokenizer_config.json asks");
  tk->add_flag("--decode", tok.decode, "read a JSON array of ids, print the text");

  auto* rd = app.add_subcommand("render", "Chat request JSON on stdin → the exact V4 prompt on stdout");

  dsv4::ParseOptions parse;
  auto* ps = app.add_subcommand("parse", "{\"completion\", \"thinking\"} on stdin → reasoning, content, tool calls");
  ps->add_flag("--lenient", parse.lenient, "accept what the strict reference parser rejects, where it can");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (*ins) return dsv4::run_inspect(inspect);
  if (*gc) return dsv4::run_golden_check(golden);
  if (*rn) {
    run.chat = run.chat || run.think;
    return dsv4::run_run(run);
  }
  if (*ch) return dsv4::run_chat(chat);
  if (*tk) return dsv4::run_tokenize(tok);
  if (*rd) return dsv4::run_render();
  if (*ps) return dsv4::run_parse(parse);
  return 2;
}
