#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for the given seconds (default 30), starting
# from golden data as seeds: checkpoints and configs for the model parsers, chat completions and requests
# for the chat parser and renderer, both for the tokenizer, the requests as OpenAI bodies for the server's
# request parser. Any crash or sanitizer report fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
targets=(safetensors_fuzz config_fuzz chat_parse_fuzz chat_render_fuzz tokenizer_fuzz openai_request_fuzz)
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDSV4_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_CXX_FLAGS=-O1 >/dev/null
cmake --build build-fuzz --target "${targets[@]}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/st" "$work/cfg" "$work/parse" "$work/render" "$work/tok" "$work/openai"
for f in tests/data/golden/*/model.safetensors; do
  head -c 65536 "$f" > "$work/st/$(basename "$(dirname "$f")")"  # header + some data: truncated seeds
done
cp configs/*.json "$work/cfg/"
for f in tests/data/golden/*/config.json; do cp "$f" "$work/cfg/$(basename "$(dirname "$f")").json"; done
# One seed per file: each golden completion (parser, tokenizer), each request without its expected prompt
# (renderer), and each prompt (tokenizer).
python3 - "$work" <<'PY'
import json, pathlib, sys
work, golden = pathlib.Path(sys.argv[1]), pathlib.Path("tests/data/golden/chat")
for i, line in enumerate((golden / "parse.jsonl").read_text(encoding="utf-8").splitlines()):
    completion = json.loads(line)["completion"].encode()
    (work / "parse" / f"completion{i}").write_bytes(completion)
    (work / "tok" / f"completion{i}").write_bytes(completion)
for i, line in enumerate((golden / "cases.jsonl").read_text(encoding="utf-8").splitlines()):
    record = json.loads(line)
    (work / "tok" / f"prompt{i}").write_bytes(record.pop("prompt").encode())
    (work / "render" / f"request{i}").write_bytes(json.dumps(record, ensure_ascii=False).encode())
    # The same request as an OpenAI body (the server's request parser).
    body = {"model": "dsv4", **{k: v for k, v in record.items() if k in ("messages", "tools")}}
    (work / "openai" / f"request{i}").write_bytes(json.dumps(body, ensure_ascii=False).encode())
(work / "openai" / "completion").write_bytes(b'{"model": "dsv4", "prompt": "Hi", "max_tokens": 4, "stop": ["a"]}')
PY
run() {  # run TARGET CORPUS [libFuzzer flags...]
  echo "$1:"
  build-fuzz/fuzz/"$1" -max_total_time="$seconds" -print_final_stats=1 "${@:3}" "$work/$2" 2>&1 | tail -5
}
run safetensors_fuzz st -max_len=70000
run config_fuzz cfg
run chat_parse_fuzz parse
run chat_render_fuzz render
run tokenizer_fuzz tok
run openai_request_fuzz openai
