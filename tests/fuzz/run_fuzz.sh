#!/usr/bin/env bash
# run_fuzz.sh HARNESS CORPUS_DIR REGRESS_DIR SECONDS [ARTIFACT_DIR]: one fuzz
# ctest (tests/fuzz/CMakeLists.txt) and one harness of scripts/fuzz.sh. Runs
# every regression input under REGRESS_DIR once, then fuzzes for SECONDS from
# CORPUS_DIR + REGRESS_DIR (new inputs go to a scratch folder, not the seed
# corpus); a crash, leak, sanitizer report or an input slower than 10 s fails
# and is saved under ARTIFACT_DIR (default: $CMTEB_BUILD/fuzz-artifacts/NAME).
set -euo pipefail
bin="$1" corpus="$2" regress="$3" secs="$4"
name="$(basename "$bin")"
art="${5:-${CMTEB_BUILD:-/tmp}/fuzz-artifacts/$name}"
mkdir -p "$art"
work="$(mktemp -d "${CMTEB_TMP:-/tmp}/$name.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
opts=(-rss_limit_mb=1024 -timeout=10 -artifact_prefix="$art/" -print_final_stats=1)

seeds=("$corpus")
if [ -d "$regress" ] && [ -n "$(ls -A "$regress")" ]; then
  echo "== $name: $(ls "$regress" | wc -l) regression input(s) from $regress"
  "$bin" "${opts[@]}" "$regress"/*
  seeds+=("$regress")
fi
echo "== $name: fuzzing ${secs}s from ${seeds[*]}"
"$bin" "${opts[@]}" -max_total_time="$secs" "$work" "${seeds[@]}"
