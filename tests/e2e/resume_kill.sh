#!/usr/bin/env bash
# resume_kill.sh: a run killed with SIGKILL mid-way and started again finishes
# without re-embedding what the cache holds, and gives the same scores as an
# uninterrupted run. CMTEB_TEST_ENCODE_DELAY_MS slows each encoder call so the
# kill lands mid-run.
set -euo pipefail
data="$CMTEB_SHARED/data"
[ -d "$data/mteb/stsbenchmark-sts" ] || { echo "SKIP: $data absent"; exit 77; }
out="$CMTEB_TMP/e2e_resume"
rm -rf "$out"; mkdir -p "$out"
cat > "$out/tasks.json" <<JSON
[{"name": "STSB-resume", "type": "STS", "data": "$data/mteb/stsbenchmark-sts", "split": "test",
  "settings": {"min_score": 0, "max_score": 5}},
 {"name": "SICKR-resume", "type": "STS", "data": "$data/mteb/sickr-sts", "split": "test",
  "settings": {"min_score": 1, "max_score": 5}}]
JSON
# reference: uninterrupted run
"$CMTEB_BIN" run --model hash --task-file "$out/tasks.json" --output "$out/ref" --no-cache --quiet > /dev/null

# interrupted run: 300 ms per encoder call of 512 texts; SICK-R alone needs ~20 calls
CMTEB_TEST_ENCODE_DELAY_MS=300 "$CMTEB_BIN" run --model hash --task-file "$out/tasks.json" --output "$out/run" \
  --batch-size 64 --quiet > "$out/run1.log" 2>&1 &
pid=$!
# wait until the first task's result exists and SICK-R's first vectors are committed to the cache's store
k0=
for i in $(seq 1 200); do
  k=$( (cat "$out"/run/.cache/*/store/keys.bin 2>/dev/null || true) | wc -c)
  if ls "$out"/run/*/*/STSB-resume.json >/dev/null 2>&1; then
    [ -n "$k0" ] || k0=$k
    [ "$k" -gt "$k0" ] && break
  fi
  sleep 0.1
done
kill -9 $pid 2>/dev/null || { echo "run finished before it could be killed"; exit 1; }
wait $pid 2>/dev/null || true
! ls "$out"/run/*/*/SICKR-resume.json >/dev/null 2>&1 || { echo "SICK-R finished before the kill"; exit 1; }
ls "$out"/run/*/*/ -la

# restart: STSB is skipped (result exists), SICK-R re-uses cached vectors
"$CMTEB_BIN" run --model hash --task-file "$out/tasks.json" --output "$out/run" --batch-size 64 > "$out/run2.log" 2>&1
cat "$out/run2.log"
grep -q "STSB-resume: result exists, skipped" "$out/run2.log"
hits=$(sed -n 's/.* \([0-9][0-9]*\) from the cache.*/\1/p' "$out/run2.log")
[ "$hits" -gt 0 ] || { echo "no cache hits after restart"; exit 1; }
/usr/bin/python3 - "$out" <<'PY'
import json, glob, sys
out = sys.argv[1]
for t in ("STSB-resume", "SICKR-resume"):
    a = json.load(open(glob.glob(f"{out}/ref/*/*/{t}.json")[0]))["scores"]["test"][0]
    b = json.load(open(glob.glob(f"{out}/run/*/*/{t}.json")[0]))["scores"]["test"][0]
    assert a["main_score"] == b["main_score"], (t, a["main_score"], b["main_score"])
print("scores identical after kill -9 and resume")
PY
echo "1 passed, 0 failed"
