#!/usr/bin/env bash
# fuzz.sh [SECONDS] [HARNESS...]: builds the libFuzzer harnesses (tests/fuzz,
# clang, ASan + UBSan) in build-fuzz/ ($CMTEB_FUZZ_BUILD overrides) and runs
# each, one after the other on one core, for SECONDS (default 300)
# from its seed corpus tests/fuzz/corpus/<parser>/ plus its regression inputs
# tests/fuzz/regress/<parser>/ (all harnesses, or the ones named: npy, records,
# ...). A crash, leak, sanitizer report or slow input (> 10 s) is saved under
# build-fuzz/fuzz-artifacts/fuzz_<parser>/; once fixed, copy it into
# tests/fuzz/regress/<parser>/ so every test run replays it (tests/fuzz/README.md).
# Each harness's last line says: harness, seconds, executions, cov, ft.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-300}"
[ $# -gt 0 ] && shift
if ! command -v clang >/dev/null || ! command -v clang++ >/dev/null; then
  echo "fuzz: clang not found (Debian: apt-get install clang)" >&2
  exit 1
fi
bd="${CMTEB_FUZZ_BUILD:-build-fuzz}"
CC=clang CXX=clang++ cmake -S . -B "$bd" -DCMAKE_BUILD_TYPE=Debug -DCMTEB_FUZZ=ON -DCMTEB_SANITIZE=ON >/dev/null
cmake --build "$bd" -j"$(nproc)" --target fuzz_all
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do
    n="$(basename "$f" .c)"; [ "$n" = fuzz_common ] || harnesses+=("${n#fuzz_}")
  done
fi
export CMTEB_BUILD="$PWD/$bd" CMTEB_TMP="$PWD/$bd/test-tmp"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp"
mkdir -p "$CMTEB_TMP"
failed=()
for h in "${harnesses[@]}"; do
  log="$bd/fuzz-artifacts/fuzz_$h.log"
  mkdir -p "$bd/fuzz-artifacts"
  echo "== fuzz_$h: ${secs}s (log: $log)" >&2
  if ! bash tests/fuzz/run_fuzz.sh "$bd/tests/fuzz/fuzz_$h" "tests/fuzz/corpus/$h" \
       "tests/fuzz/regress/$h" "$secs" >"$log" 2>&1; then
    failed+=("$h")
    grep -E "^(==[0-9]+==ERROR|SUMMARY)|runtime error|Test unit written" "$log" >&2 || tail -n 20 "$log" >&2
  fi
  # libFuzzer's final status line ("#N DONE cov: C ft: F ...") and its executed-units count
  done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)"
  execs="$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+$' || true)"
  cov="$(grep -oE 'cov: [0-9]+' <<<"$done_line" | grep -oE '[0-9]+' || true)"
  ft="$(grep -oE 'ft: [0-9]+' <<<"$done_line" | grep -oE '[0-9]+' || true)"
  echo "fuzz_$h ${secs}s execs ${execs:-?} cov ${cov:-?} ft ${ft:-?}" >&2
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]} (inputs under $bd/fuzz-artifacts/)" >&2
  exit 1
fi
echo "fuzz: no findings in ${#harnesses[@]} harness(es), ${secs}s each" >&2
