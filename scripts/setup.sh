#!/usr/bin/env bash
# Installs what dsv4 needs on a fresh Debian 12 machine and builds it (release build in build/).
#   scripts/setup.sh              dependencies + release build
#   scripts/setup.sh --sanitize   dependencies + ASan/UBSan debug build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake ninja-build pkg-config libfmt-dev nlohmann-json3-dev libcli11-dev libgtest-dev
          libgmock-dev libbenchmark-dev libpcre2-dev clang-14 libclang-rt-14-dev python3 libopenblas-dev
          libcpp-httplib-dev)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -f package.json ]; then
  command -v npm >/dev/null || { echo "setup: npm is required (Node.js 20)"; exit 1; }
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi

if [ "${1:-}" = "--sanitize" ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDSV4_SANITIZE=ON -DCMAKE_CXX_FLAGS=-O1 >/dev/null
  cmake --build build-asan
else
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build
fi
