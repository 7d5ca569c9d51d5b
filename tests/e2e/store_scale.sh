#!/usr/bin/env bash
# store_scale.sh: the 50k-document version of bench/store_scale.sh. A synthetic retrieval task
# (bench/store_scale_gen.py: 50,000 documents, 384-d float32 vectors through precomputed:, 200 queries) is run
#   - in memory (one FAISS chunk of the whole corpus) and
#   - streamed under --mem-budget 24M (chunks of a few thousand documents),
#   - streamed with the embedding cache on (documents embedded in batches into the cache's vector store),
#     then again with every vector from the cache,
#   - with precomputed: given the store folder directly,
# and every score must be equal to the in-memory run's. The texts.jsonl + embeddings.npy pair is indexed
# once: only the first run logs it; a changed embeddings.npy is indexed again.
set -uo pipefail
PY=/usr/bin/python3
"$PY" -c 'import numpy' 2>/dev/null || { echo "SKIP: numpy absent"; exit 77; }
out="$CMTEB_TMP/e2e_store_scale"
rm -rf "$out"; mkdir -p "$out"
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
"$PY" "$CMTEB_SRC/bench/store_scale_gen.py" "$out" 50000 384 200 || { echo "generator failed"; exit 1; }
cd "$out"
run() {   # run NAME MODEL ARGS...
  local name=$1 model=$2; shift 2
  "$CMTEB_BIN" run --model "$model" --task-file task.json --output "$out/$name" "$@" > "$out/$name.log" 2>&1 ||
    bad "$name: run failed: $(tail -3 "$out/$name.log")"
}
same() {   # same NAME: every score equal to the in-memory run's
  "$PY" - "$out/memory" "$out/$1" <<'PY' && ok || bad "$1: scores differ from the in-memory run"
import glob, json, sys
a, b = (json.load(open(glob.glob(d + "/*/*/SynthRetrieval.json")[0]))["scores"]["test"][0] for d in sys.argv[1:3])
bad = [k for k in a if k != "evaluation_time" and a[k] != b.get(k)]
print("%s: %d values, %d differ (ndcg_at_10 %s)" % (sys.argv[2].split("/")[-1], len(a), len(bad), b["ndcg_at_10"]))
sys.exit(1 if bad else 0)
PY
}
run memory "precomputed:$out/pre" --no-cache --corpus-chunk-size 50000
grep -q "indexed into the vector store" memory.log && ok || bad "first use did not index: $(grep -i store memory.log)"
[ -f pre/.cmteb-store/head ] && ok || bad "no store beside the files"
run budget "precomputed:$out/pre" --no-cache --mem-budget 24M
grep -q "indexed into" budget.log && bad "indexed a second time" || ok
n=$(sed -nE 's/.*corpus chunks of ([0-9]+) documents.*/\1/p' budget.log)
[ -n "$n" ] && [ "$n" -lt 20000 ] && ok || bad "want chunks well below the corpus, got '$n'"
same budget
run cached "precomputed:$out/pre" --mem-budget 64M --cache-dir "$out/cache"
same cached
[ -f "$out"/cache/*/store/head ] && ok || bad "no cache store"
run cached2 "precomputed:$out/pre" --mem-budget 64M --cache-dir "$out/cache"
grep -qE '^Texts: .* 0 embedded' cached2.log && ok || bad "cache not used: $(grep '^Texts' cached2.log)"
same cached2
run direct "precomputed:$out/pre/.cmteb-store" --no-cache --mem-budget 24M
same direct
# a changed file is indexed again (the same vectors rewritten: same scores)
"$PY" -c "import numpy as np; a=np.load('pre/embeddings.npy'); np.save('pre/embeddings.npy', a)"
run again "precomputed:$out/pre" --no-cache --mem-budget 24M
grep -q "changed since .* was built; indexing again" again.log && ok || bad "a changed file was not noticed"
same again
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
