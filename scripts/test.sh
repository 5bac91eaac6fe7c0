#!/usr/bin/env bash
# The test command (README, CI): installs what is missing, then
#   1. release build, every test (unit, golden cases, chunking, CLI on bad input, layer gate)
#   2. ASan + UBSan build, every test again
#   3. the parser fuzzers, briefly (FUZZ_SECONDS, default 20 per target; 0 skips them, and says so)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/setup.sh
ctest --test-dir build --output-on-failure -j "$jobs"

scripts/setup.sh --sanitize
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"

fuzz_seconds="${FUZZ_SECONDS:-20}"
if [ "$fuzz_seconds" -gt 0 ]; then
  scripts/fuzz.sh "$fuzz_seconds"
else
  echo "test: fuzzers skipped (FUZZ_SECONDS=0)"
fi
echo "test: all passed"
