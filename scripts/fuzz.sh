#!/usr/bin/env bash
# fuzz.sh [SECONDS] [HARNESS...]: builds the libFuzzer harnesses (tests/fuzz,
# clang, ASan + UBSan) in build-fuzz/ and runs each for SECONDS (default 300)
# from its seed corpus tests/fuzz/corpus/<parser>/ plus its regression inputs
# tests/fuzz/regress/<parser>/ (all harnesses, or the ones named: npy, records,
# ...). A crash, leak, sanitizer report or slow input (> 10 s) is saved under
# build-fuzz/fuzz-artifacts/fuzz_<parser>/; once fixed, copy it into
# tests/fuzz/regress/<parser>/ so every test run replays it (tests/fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-300}"
[ $# -gt 0 ] && shift
if ! command -v clang >/dev/null || ! command -v clang++ >/dev/null; then
  echo "fuzz: clang not found (Debian: apt-get install clang)" >&2
  exit 1
fi
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMTEB_FUZZ=ON -DCMTEB_SANITIZE=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_all
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do
    n="$(basename "$f" .c)"; [ "$n" = fuzz_common ] || harnesses+=("${n#fuzz_}")
  done
fi
export CMTEB_BUILD="$PWD/build-fuzz" CMTEB_TMP="$PWD/build-fuzz/test-tmp"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp"
mkdir -p "$CMTEB_TMP"
failed=()
for h in "${harnesses[@]}"; do
  log="build-fuzz/fuzz-artifacts/fuzz_$h.log"
  mkdir -p build-fuzz/fuzz-artifacts
  echo "== fuzz_$h: ${secs}s (log: $log)" >&2
  if ! bash tests/fuzz/run_fuzz.sh "build-fuzz/tests/fuzz/fuzz_$h" "tests/fuzz/corpus/$h" \
       "tests/fuzz/regress/$h" "$secs" >"$log" 2>&1; then
    failed+=("$h")
    grep -E "^(==[0-9]+==ERROR|SUMMARY)|runtime error|Test unit written" "$log" >&2 || tail -n 20 "$log" >&2
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]} (inputs under build-fuzz/fuzz-artifacts/)" >&2
  exit 1
fi
echo "fuzz: no findings in ${#harnesses[@]} harness(es), ${secs}s each" >&2
