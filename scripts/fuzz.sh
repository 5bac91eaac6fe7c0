#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for the given seconds (default 30), starting
# from the golden checkpoints and configs as seeds. Any crash or sanitizer report fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDSV4_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_CXX_FLAGS=-O1 >/dev/null
cmake --build build-fuzz --target safetensors_fuzz config_fuzz
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/st" "$work/cfg"
for f in tests/data/golden/*/model.safetensors; do
  head -c 65536 "$f" > "$work/st/$(basename "$(dirname "$f")")"  # header + some data: truncated seeds
done
cp configs/*.json "$work/cfg/"
for f in tests/data/golden/*/config.json; do cp "$f" "$work/cfg/$(basename "$(dirname "$f")").json"; done
build-fuzz/fuzz/safetensors_fuzz -max_total_time="$seconds" -max_len=70000 -print_final_stats=1 "$work/st" 2>&1 | tail -3
build-fuzz/fuzz/config_fuzz -max_total_time="$seconds" -print_final_stats=1 "$work/cfg" 2>&1 | tail -3
