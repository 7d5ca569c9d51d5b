#!/usr/bin/env bash
# store_kill.sh: the vector store (cmteb/store.h) under kill -9. A writer
# (the test_store helper: `append DIR N`, commits of 1..40 rows, an index
# rebuild every 300 keys) is killed with SIGKILL at random moments, again
# and again (RANDOM=42, bounded); after every kill the store must open and
# hold exactly rows 0..R-1 under their keys with their values (`verify`),
# R must never go back, and the next writer resumes from R. Finally a run
# without a kill completes to N, and the embedding cache's store is checked
# the same way through `cmteb run` killed mid-embedding (hash model, demo).
set -uo pipefail
RANDOM=42
out="$CMTEB_TMP/e2e_store_kill"
rm -rf "$out"; mkdir -p "$out"
helper="$CMTEB_BUILD/tests/test_store"
[ -x "$helper" ] || { echo "SKIP: $helper not built"; exit 77; }
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
N=20000
store="$out/store"
prev=0; kills=0
for round in $(seq 1 25); do
  # a target far past what a writer commits before its kill, so that every round's writer is still running
  # when the kill comes, however fast the machine (a fixed N let later writers finish first)
  "$helper" append "$store" $((prev + 1000000)) &
  pid=$!
  ms=$(( 20 + RANDOM % 400 ))
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  kill -9 $pid 2>/dev/null
  { wait $pid; } 2>/dev/null; rc=$?
  [ $rc -eq 137 ] && kills=$((kills+1))
  [ -e "$store/head" ] || continue   # killed before the store existed
  v=$("$helper" verify "$store"); vrc=$?
  rows=$(sed -n 's/^rows \([0-9]*\) .*/\1/p' <<<"$v")
  if [ $vrc -eq 0 ] && [ -n "$rows" ] && [ "$rows" -ge $prev ]; then ok; prev=$rows
  else bad "round $round (killed after ${ms} ms): $v (previous rows $prev)"; fi
done
echo "$kills kill(s), $prev rows committed before the last kill"
[ $kills -ge 10 ] && ok || bad "only $kills of 25 writers were killed"
[ $prev -gt 0 ] && ok || bad "no row was ever committed"
ls "$store"/*.tmp.* >/dev/null 2>&1 && echo "(temporaries of killed writers present; the next writer removes them)"
v=$("$helper" verify "$store"); N=$(( $(sed -n 's/^rows \([0-9]*\) .*/\1/p' <<<"$v") + N ))
"$helper" append "$store" $N || bad "final append failed"
v=$("$helper" verify "$store") && grep -q "^rows $N bad 0" <<<"$v" && ok || bad "final store: $v"
[ -z "$(ls "$store"/*.tmp.* 2>/dev/null)" ] && ok || bad "temporaries left after a clean writer: $(ls "$store")"
[ "$(ls "$store"/index-*.bin | wc -l)" -eq 1 ] && ok || bad "old index generations left: $(ls "$store")"

# the embedding cache: run killed mid-embedding, rerun completes with every text from the cache on the third run
ref="$out/ref"; dir="$out/run"
"$CMTEB_BIN" run --model hash --benchmark demo --output "$ref" --quiet >/dev/null 2>&1 || bad "reference run failed"
for round in 1 2 3 4; do
  CMTEB_TEST_ENCODE_DELAY_MS=40 "$CMTEB_BIN" run --model hash --benchmark demo --output "$dir" --quiet --batch-size 8 \
    >/dev/null 2>&1 &
  pid=$!
  sleep "0.$(( 200 + RANDOM % 600 ))"
  kill -9 $pid 2>/dev/null; { wait $pid; } 2>/dev/null
done
"$CMTEB_BIN" run --model hash --benchmark demo --output "$dir" --quiet >/dev/null 2>&1 || bad "resumed run failed"
again=$("$CMTEB_BIN" run --model hash --benchmark demo --output "$dir" --overwrite --quiet 2>&1) || bad "rerun failed"
grep -qE '^Texts: .* 0 embedded' <<<"$again" && ok || bad "cache not reused: $(grep '^Texts' <<<"$again")"
for f in "$ref"/*/*/*.json; do
  g="$dir/${f#$ref/}"
  /usr/bin/python3 - "$f" "$g" <<'PY' && ok || bad "scores differ: $f"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for x in (a, b):
    x.pop("evaluation_time", None); x.pop("cmteb", None)
sys.exit(0 if a == b else 1)
PY
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
