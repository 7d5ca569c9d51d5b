#!/usr/bin/env bash
# kill_loop.sh (issue #16): `cmteb run` and `cmteb compare` killed with
# SIGKILL at random moments, again and again (a bounded loop; RANDOM=42 so
# the kill times repeat), and restarted until they complete. The final
# results equal an uninterrupted run's (every JSON result file, with
# evaluation_time and the "cmteb" provenance object dropped), no *.tmp.* file
# is left behind, every JSON under the output folder parses, and the cache is
# usable: a rerun with --overwrite embeds nothing. Cases: `run --model hash
# --benchmark demo`, `compare` of two poolings of the bert-tiny fixture on
# demo, and, when ../shared/data holds SciFact, a longer retrieval task.
# CMTEB_TEST_ENCODE_DELAY_MS slows each encoder call so kills land mid-run.
set -uo pipefail
RANDOM=42
out="$CMTEB_TMP/e2e_kill_loop"
rm -rf "$out"; mkdir -p "$out"
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: $PY absent"; exit 77; }
model="$CMTEB_SRC/tests/fixtures/hf/bert-tiny"
[ -d "$model" ] || { echo "SKIP: $model absent"; exit 77; }
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
MAX_ROUNDS=6
CAP_S=25          # total time for one case's kill loop
total_kills=0

# killloop NAME DELAY_MS MAX_SLEEP_MS -- cmteb args...
killloop() {
  local name=$1 delay=$2 maxms=$3; shift 4
  local ref="$out/$name-ref" dir="$out/$name-kill" log="$out/$name.log"
  : > "$log"
  # reference: uninterrupted, same batch size as the interrupted runs
  if ! "$CMTEB_BIN" "$@" --output "$ref" --quiet > "$out/$name-ref.txt" 2>&1; then
    bad "$name: reference run failed"; cat "$out/$name-ref.txt"; return
  fi
  local t0=$SECONDS round done=0 kills=0 rc ms
  for round in $(seq 1 $MAX_ROUNDS); do
    [ $((SECONDS - t0)) -lt $CAP_S ] || break
    CMTEB_TEST_ENCODE_DELAY_MS=$delay "$CMTEB_BIN" "$@" --output "$dir" --quiet >> "$log" 2>&1 &
    local pid=$!
    ms=$(( 50 + RANDOM % maxms ))
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    kill -9 "$pid" 2>/dev/null
    { wait "$pid"; } 2>/dev/null; rc=$?   # reaped: its lock on the results folder is gone
    if [ $rc -eq 137 ]; then kills=$((kills+1)); echo "$name round $round: killed after ${ms} ms" >> "$log"
    elif [ $rc -eq 0 ]; then done=1; echo "$name round $round: completed (${ms} ms)" >> "$log"; break
    else bad "$name round $round: exit $rc"; tail -5 "$log"; return; fi
  done
  total_kills=$((total_kills + kills))
  if [ $done -eq 0 ]; then   # finish without the delay or a kill
    "$CMTEB_BIN" "$@" --output "$dir" --quiet >> "$log" 2>&1 || { bad "$name: final run failed"; tail -5 "$log"; return; }
  fi
  echo "$name: $kills kill(s), $((SECONDS - t0)) s"
  [ $kills -gt 0 ] && ok || bad "$name: no run was killed (all completed before the kill)"
  check "$name" "$ref" "$dir"
  # temporaries a kill -9 leaves mid-write (planted, as a random kill rarely lands there) go on the next run
  local dead f; true & dead=$!; wait $dead
  for f in $(find "$dir" -name model_meta.json) $(find "$dir/.cache" -name meta.json) $(find "$dir" -name comparison.md); do
    echo '{"trunc' > "$f.tmp.$dead"
  done
  [ -n "$(find "$dir" -name "*.tmp.$dead")" ] && ok || bad "$name: no folder to plant a temporary in"
  # the cache is usable: a rerun with --overwrite embeds nothing
  local again; again=$("$CMTEB_BIN" "$@" --output "$dir" --overwrite --quiet 2>&1) || { bad "$name: --overwrite rerun failed: $again"; return; }
  if grep -q '^Texts: ' <<<"$again"; then
    grep -qE '^Texts: .* 0 embedded' <<<"$again" && ok || bad "$name: the cache was not reused: $(grep '^Texts: ' <<<"$again")"
  else
    grep -q '^Forward passes: 0 texts' <<<"$again" && ok || bad "$name: the cache was not reused: $(grep '^Forward' <<<"$again")"
  fi
  check "$name (after --overwrite)" "$ref" "$dir"
}

# check NAME REF DIR: same result files with equal contents (timing and provenance aside),
# no temporary files, every JSON parses.
check() {
  local msg
  msg=$(find "$3" -name '*.tmp.*')
  [ -z "$msg" ] && ok || bad "$1: temporary files left: $msg"
  if msg=$("$PY" - "$2" "$3" 2>&1 <<'PY'
import json, os, sys
ref, run = sys.argv[1], sys.argv[2]
def jsons(root):
    out = {}
    for d, _, fs in os.walk(root):
        for f in fs:
            if f.endswith(".json"):
                p = os.path.join(d, f)
                out[os.path.relpath(p, root)] = p
    return out
def strip(x, root):  # drop timing and provenance; paths relative to the output folder
    if isinstance(x, dict):
        return {k: strip(v, root) for k, v in x.items() if k not in ("evaluation_time", "cmteb")}
    if isinstance(x, list):
        return [strip(v, root) for v in x]
    if isinstance(x, str):
        return x.replace(root, "OUT")
    return x
errs = []
a, b = jsons(ref), jsons(run)
for rel, p in b.items():
    try:
        json.load(open(p))
    except Exception as e:
        errs.append(f"{rel}: does not parse: {e}")
results = lambda m: {r for r in m if "/.cache/" not in "/" + r}
ra, rb = results(a), results(b)
if ra != rb:
    errs.append(f"result files differ: only in reference {sorted(ra - rb)}, only after kills {sorted(rb - ra)}")
n = 0
for rel in sorted(ra & rb):
    x, y = json.load(open(a[rel])), json.load(open(b[rel]))
    sx, sy = strip(x, ref), strip(y, run)
    if sx != sy:
        keys = sorted(k for k in set(sx) | set(sy) if sx.get(k) != sy.get(k)) if isinstance(sx, dict) else []
        errs.append(f"{rel}: differs from the uninterrupted run (keys {keys})")
    n += 1
for d, _, fs in os.walk(ref):  # the comparison tables
    for f in fs:
        if f.endswith(".md"):
            rel = os.path.relpath(os.path.join(d, f), ref)
            q = os.path.join(run, rel)
            if not os.path.exists(q) or open(os.path.join(d, f)).read().replace(ref, "OUT") != open(q).read().replace(run, "OUT"):
                errs.append(f"{rel}: differs from the uninterrupted run")
            n += 1
if n == 0:
    errs.append("no result files")
print("\n".join(errs) if errs else f"{n} files identical")
sys.exit(1 if errs else 0)
PY
  ); then ok; else bad "$1: $msg"; fi
}

killloop demo-run 40 700 -- run --model hash --benchmark demo --batch-size 16
killloop demo-compare 60 900 -- compare --model "hf:$model" --variant mean:pooling=mean --variant cls:pooling=cls \
  --benchmark demo --batch-size 16
if [ -d "$CMTEB_SHARED/data/mteb/scifact" ]; then
  killloop scifact 40 2500 -- run --model hash --tasks SciFact --data-dir "$CMTEB_SHARED/data" --batch-size 32
else
  echo "SciFact part skipped: $CMTEB_SHARED/data/mteb/scifact absent"
fi
echo "$total_kills kill(s) in all"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
