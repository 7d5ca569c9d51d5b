#!/usr/bin/env bash
# evaluator_shapes.sh: issue 14's six task shapes (bench/evaluator_bench.py, scale 0.02: 5,701 texts, 384-d,
# one precomputed store) scored by cmteb and by the Python reference (numpy / scikit-learn / scipy as MTEB v1
# runs them, Debian's /usr/bin/python3): every main score must agree to the 5 decimals MTEB reports. Then
# the evaluators that run work side by side (classification: one experiment per thread; clustering: one
# cluster set per thread) must give byte-identical scores and per-item data with --threads 1 and 2, and
# clustering the same with an embedding cache (vectors copied into cluster-set slots) as without (the
# store's rows lent, no copy); without any cache option a precomputed run keeps no default cache.
set -euo pipefail
/usr/bin/python3 -c 'import numpy, scipy, sklearn' 2>/dev/null || { echo "SKIP: numpy/scipy/sklearn absent"; exit 77; }
out="$CMTEB_TMP/e2e_evaluator_shapes"
rm -rf "$out"; mkdir -p "$out"
bench="$CMTEB_SRC/bench/evaluator_bench.py"
/usr/bin/python3 "$bench" make "$out" 0.02 >/dev/null
cd "$out"
fail=0
for t in retrieval classification clustering sts pairclass reranking; do
    "$CMTEB_BIN" run --model precomputed:store --task-file "tasks/$t.json" --output "$out/r-$t" --quiet --no-cache \
        >/dev/null
    res=$(find "$out/r-$t" -name 'Bench*.json' -not -path '*/.cmteb/*' | head -1)
    got=$(/usr/bin/python3 "$bench" score "$res")
    ref=$(/usr/bin/python3 "$bench" ref "$out" "$t")
    echo "$t: cmteb $got, reference $ref"
    [ "$got" = "$ref" ] || { echo "FAIL: $t: main score $got, the reference gives $ref"; fail=1; }
done
for t in classification clustering; do
    for n in 1 2; do
        "$CMTEB_BIN" run --model precomputed:store --task-file "tasks/$t.json" --output "$out/t$n-$t" --quiet \
            --no-cache --threads "$n" >/dev/null
    done
    cmp_dirs=("$out/t1-$t" "$out/t2-$t")
    if [ "$t" = clustering ]; then
        "$CMTEB_BIN" run --model precomputed:store --task-file "tasks/$t.json" --output "$out/tc-$t" --quiet \
            --cache-dir "$out/cache-$t" --threads 2 >/dev/null
        # no cache option: precomputed vectors are not copied into a default cache (OUTPUT/.cache)
        "$CMTEB_BIN" run --model precomputed:store --task-file "tasks/$t.json" --output "$out/td-$t" --quiet \
            --threads 2 >/dev/null
        [ -d "$out/cache-$t" ] || { echo "FAIL: --cache-dir did not make a cache"; fail=1; }
        [ ! -e "$out/td-$t/.cache" ] || { echo "FAIL: a precomputed run made a default cache"; fail=1; }
        cmp_dirs+=("$out/tc-$t" "$out/td-$t")
    fi
    /usr/bin/python3 - "$t" "${cmp_dirs[@]}" <<'PY' || fail=1
import json, os, sys
def load(d):
    got = {}
    for dp, _, fn in os.walk(d):
        for f in fn:
            if f.endswith(".json") and f != "model_meta.json":
                j = json.load(open(os.path.join(dp, f)))
                got[f] = j if f.endswith(".items.json") else j["scores"]
    return got
t, dirs = sys.argv[1], sys.argv[2:]
a = load(dirs[0])
assert len(a) == 2, sorted(a)   # the result file and its per-item data
for d in dirs[1:]:
    if load(d) != a:
        print(f"FAIL: {t}: {os.path.basename(d)} gives other scores or items than {os.path.basename(dirs[0])}")
        sys.exit(1)
print(f"{t}: {', '.join(os.path.basename(d) for d in dirs)} identical")
PY
done
exit "$fail"
