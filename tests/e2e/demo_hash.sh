#!/usr/bin/env bash
# demo_hash.sh: the main job (`cmteb run --model hash --benchmark demo`) runs
# every demo task and writes a valid MTEB result file with a main score for each.
set -euo pipefail
out="$CMTEB_TMP/e2e_demo_hash"
rm -rf "$out"
"$CMTEB_BIN" run --model hash --benchmark demo --output "$out" --quiet > "$out.log"
cat "$out.log"
n_tasks=$("$CMTEB_BIN" list --benchmark demo --format json 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["tasks"]))' 2>/dev/null || echo "")
dir="$out/cmteb__hash-512/1"
test -f "$dir/model_meta.json"
/usr/bin/python3 - "$dir" "$n_tasks" <<'PY'
import json, os, sys, glob
d, n_expected = sys.argv[1], sys.argv[2]
files = [f for f in glob.glob(os.path.join(d, "*.json")) if not f.endswith("model_meta.json")]
assert files, "no result files"
for f in files:
    r = json.load(open(f))
    for k in ("dataset_revision", "task_name", "mteb_version", "scores", "evaluation_time"):
        assert k in r, (f, k)
    (split, entries), = r["scores"].items()
    e = entries[0]
    assert isinstance(e["main_score"], float) and 0 <= abs(e["main_score"]) <= 1, (f, e["main_score"])
    assert e["hf_subset"] and e["languages"], f
if n_expected:
    assert len(files) == int(n_expected), (len(files), n_expected)
print("ok:", len(files), "demo result files")
PY
# a second run resumes: every task is skipped
"$CMTEB_BIN" run --model hash --benchmark demo --output "$out" > "$out.log2" 2>&1
grep -q "cached" "$out.log2"
echo "1 passed, 0 failed"
