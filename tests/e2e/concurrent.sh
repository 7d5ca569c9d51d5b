#!/usr/bin/env bash
# concurrent.sh: two runs on one results folder: the second refuses with a
# clear message naming the folder and the first run's pid while the first
# runs (an advisory lock, eval/run.c + core/util.c cm_dir_lock), the first
# finishes normally, and once it is gone (also after kill -9) the folder is
# free again.
set -uo pipefail
out="$CMTEB_TMP/e2e_concurrent"
rm -rf "$out"; mkdir -p "$out"
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
args=(run --model hash --tasks DemoSTS,DemoClassification --output "$out/r" --no-cache --quiet)
run() { "$CMTEB_BIN" "${args[@]}" "$@"; }
# a slow first run (the embedder's test delay), then a second one on the same folder
CMTEB_TEST_ENCODE_DELAY_MS=300 "$CMTEB_BIN" "${args[@]}" > "$out/first.log" 2>&1 &
first=$!
for _ in $(seq 100); do [ -f "$out/r/cmteb__hash-512/1/.cmteb/run.lock" ] && break; sleep 0.05; done
msg=$(run --overwrite 2>&1 >/dev/null); rc=$?
if [ $rc -eq 1 ] && grep -q "r/cmteb__hash-512/1 is in use by another cmteb process (pid $first)" <<<"$msg"; then ok;
else bad "second run: rc $rc, message: $msg"; fi
wait $first && ok || bad "the first run failed: $(cat "$out/first.log")"
[ -f "$out/r/cmteb__hash-512/1/DemoSTS.json" ] && ok || bad "the first run wrote no result"
run --overwrite > /dev/null 2>&1 && ok || bad "a run after the first one finished was refused"
# a killed holder releases the lock
CMTEB_TEST_ENCODE_DELAY_MS=300 "$CMTEB_BIN" "${args[@]}" --overwrite > /dev/null 2>&1 &
holder=$!
sleep 0.5; kill -9 $holder 2>/dev/null; wait $holder 2>/dev/null
run --overwrite > /dev/null 2>&1 && ok || bad "the lock outlived a killed run"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
