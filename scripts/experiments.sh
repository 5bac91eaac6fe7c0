#!/usr/bin/env bash
# The experiments of docs/experiments.md, at equal tokens on Tiny Shakespeare with configs/tiny-train.json:
# Muon vs AdamW (each at three peak learning rates), and mHC (hc_mult 4) vs a single residual stream
# (hc_mult 1). Writes OUT/<run>/ (log.jsonl, loss.svg, model) and the comparison plots OUT/*.svg.
#   usage: scripts/experiments.sh [OUT]   (default runs/experiments; ~20 min on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/dsv4}
OUT=${1:-runs/experiments}
STEPS=${STEPS:-600}
mkdir -p "$OUT"

$BIN tokenizer train --vocab 512 --data data/tinyshakespeare.txt --out "$OUT/tok"
$BIN data prepare -m "$OUT/tok" --data data/tinyshakespeare.txt --out "$OUT/shards"
sed 's/"hc_mult": 4/"hc_mult": 1/' configs/tiny-train.json > "$OUT/tiny-hc1.json"

run() {  # NAME CONFIG OPTIMIZER LR
  [ -f "$OUT/$1/model.safetensors" ] && [ "$(tail -1 "$OUT/$1/log.jsonl" | grep -c "\"step\":$STEPS,")" = 1 ] && return
  rm -rf "${OUT:?}/$1"
  $BIN train --config "$2" --data "$OUT/shards" --tokenizer "$OUT/tok" --out "$OUT/$1" --optimizer "$3" --lr "$4" \
    --steps "$STEPS" --batch 8 --seq 128 --eval-every 25 --val-tokens 16384 --threads 2 2>"$OUT/$1.progress"
  tail -c 300 "$OUT/$1.progress" | tr '\r' '\n' | tail -2
}

for lr in 1e-3 3e-3 1e-2; do
  run "muon-lr$lr" configs/tiny-train.json muon "$lr"
  run "adamw-lr$lr" configs/tiny-train.json adamw "$lr"
done
run muon-hc1-lr3e-3 "$OUT/tiny-hc1.json" muon 3e-3
run adamw-hc1-lr3e-3 "$OUT/tiny-hc1.json" adamw 3e-3

$BIN plot-runs --out "$OUT/muon-vs-adamw.svg" --title "Muon vs AdamW (validation loss)" "$OUT"/muon-lr* "$OUT"/adamw-lr*
$BIN plot-runs --out "$OUT/mhc-vs-residual.svg" --title "mHC (hc_mult 4) vs one stream (hc_mult 1)" \
  "$OUT/muon-lr3e-3" "$OUT/muon-hc1-lr3e-3" "$OUT/adamw-lr3e-3" "$OUT/adamw-hc1-lr3e-3"
$BIN plot-runs --summary "$OUT"/*/
