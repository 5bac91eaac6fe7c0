#!/usr/bin/env bash
# The experiments of docs/experiments.md, at equal tokens on Tiny Shakespeare with configs/tiny-train.json:
# Muon vs AdamW (each at three peak learning rates), and mHC (hc_mult 4) vs a single residual stream
# (hc_mult 1). Writes OUT/<run>/ (log.jsonl, loss.svg, model) and the comparison plots OUT/*.svg.
#   usage: scripts/experiments.sh [OUT]   (default runs/experiments; ~35 min on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/dsv4}
OUT=${1:-runs/experiments}
STEPS=${STEPS:-600}
mkdir -p "$OUT"

$BIN tokenizer train --vocab 512 --data data/tinyshakespeare.txt --out "$OUT/tok"
$BIN data prepare -m "$OUT/tok" --data data/tinyshakespeare.txt --out "$OUT/shards"
sed 's/"hc_mult": 4/"hc_mult": 1/' configs/tiny-train.json > "$OUT/tiny-hc1.json"

run() {  # NAME CONFIG OPTIMIZER LR [SEED]
  [ -f "$OUT/$1/model.safetensors" ] && [ "$(tail -1 "$OUT/$1/log.jsonl" | grep -c "\"step\":$STEPS,")" = 1 ] && return
  rm -rf "${OUT:?}/$1"
  $BIN train --config "$2" --data "$OUT/shards" --tokenizer "$OUT/tok" --out "$OUT/$1" --optimizer "$3" --lr "$4" \
    --steps "$STEPS" --batch 8 --seq 128 --eval-every 25 --val-tokens 16384 --threads 2 --seed "${5:-1}" \
    2>"$OUT/$1.progress"
  tail -c 300 "$OUT/$1.progress" | tr '\r' '\n' | tail -2
}

for lr in 1e-3 3e-3 1e-2 3e-2; do
  run "muon-lr$lr" configs/tiny-train.json muon "$lr"
  run "adamw-lr$lr" configs/tiny-train.json adamw "$lr"
done
run muon-lr1e-1 configs/tiny-train.json muon 1e-1  # Muon's best is not bracketed by the common grid
for lr in 3e-3 1e-2; do
  run "muon-hc1-lr$lr" "$OUT/tiny-hc1.json" muon "$lr"
  run "adamw-hc1-lr$lr" "$OUT/tiny-hc1.json" adamw "$lr"
done
run muon-hc1-lr3e-2 "$OUT/tiny-hc1.json" muon 3e-2
# A second seed (initialisation and data order) of the decisive runs: how large the noise is.
run seed2-muon-lr3e-2 configs/tiny-train.json muon 3e-2 2
run seed2-muon-hc1-lr3e-2 "$OUT/tiny-hc1.json" muon 3e-2 2
run seed2-adamw-lr1e-2 configs/tiny-train.json adamw 1e-2 2
run seed2-adamw-hc1-lr1e-2 "$OUT/tiny-hc1.json" adamw 1e-2 2

# The tables: every run against the best AdamW run (lr 1e-2 in docs/experiments.md).
$BIN plot-runs --out "$OUT/muon-vs-adamw.svg" --title "Muon vs AdamW: validation loss, tiny-train, 600 steps" \
  --baseline adamw-lr1e-2 "$OUT"/muon-lr*/ "$OUT"/adamw-lr*/
$BIN plot-runs --baseline seed2-adamw-lr1e-2 "$OUT"/seed2-*/
$BIN plot-runs --out "$OUT/mhc-vs-residual.svg" --title "mHC (hc_mult 4) vs one residual stream (hc_mult 1)" \
  --baseline adamw-lr1e-2 "$OUT"/muon-lr1e-2/ "$OUT"/muon-hc1-lr1e-2/ "$OUT"/muon-lr3e-2/ "$OUT"/muon-hc1-lr3e-2/ \
  "$OUT"/adamw-lr1e-2/ "$OUT"/adamw-hc1-lr1e-2/
