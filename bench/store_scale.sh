#!/usr/bin/env bash
# store_scale.sh [N] [DIM] [NQ] [LIMIT_KB] [BUDGET]: retrieval over a corpus larger than the memory the
# process may use. Generates a synthetic task (bench/store_scale_gen.py: N documents, DIM-d float32 vectors
# through precomputed:, NQ queries), indexes it into a vector store once, then runs the task
#   1. in memory: the whole corpus one FAISS chunk (--corpus-chunk-size N), no limit;
#   2. streamed: under `ulimit -v LIMIT_KB` (address space well below the N x DIM x 4 bytes of vectors)
#      with --mem-budget BUDGET;
# and requires every score of the two result files to be equal. Prints wall time and peak RSS of each.
# Defaults: 2,000,000 x 384 (2.9 GiB of vectors), 200 queries, ulimit -v 1.5 GiB, budget 256M.
# Not a ctest (minutes and 6 GB of disk); tests/e2e/store_scale.sh is the 50k version.
set -euo pipefail
N=${1:-2000000}; DIM=${2:-384}; NQ=${3:-200}; LIMIT=${4:-1572864}; BUDGET=${5:-256M}
src=$(cd "$(dirname "$0")/.." && pwd)
BIN=${CMTEB_BIN:-$src/build/cmteb}
work=${STORE_SCALE_DIR:-/tmp/cmteb_store_scale_${N}_${DIM}}
PY=/usr/bin/python3
if [ ! -f "$work/task.json" ]; then
  t0=$(date +%s.%N)
  "$PY" "$src/bench/store_scale_gen.py" "$work" "$N" "$DIM" "$NQ"
  echo "generated $N x $DIM in $(echo "$(date +%s.%N) - $t0" | bc) s: $(du -sh "$work/pre/embeddings.npy" | cut -f1)"
fi
cd "$work"
run() {   # run NAME ARGS...: wall time and peak RSS of one cmteb run
  local name=$1; shift
  /usr/bin/time -f "$name: %e s wall, %M KB peak RSS" "$BIN" run --model "precomputed:$work/pre" \
    --task-file task.json --no-cache --overwrite --output "$work/$name" "$@" 2> "$work/$name.log" >/dev/null ||
    { tail -5 "$work/$name.log"; exit 1; }
  grep -E "indexed into|chunks of|peak RSS|ndcg_at_10 =" "$work/$name.log" || true
}
# first use: indexes texts.jsonl + embeddings.npy into pre/.cmteb-store (timed; a later run only maps it)
echo "doc 0" > "$work/one.txt"
/usr/bin/time -f "index (first use) + 1 lookup: %e s wall, %M KB peak RSS" "$BIN" embed \
  --model "precomputed:$work/pre" --input "$work/one.txt" --output "$work/one.npy" 2>&1 |
  grep -E "indexed into|peak RSS"
/usr/bin/time -f "later start-up + 1 lookup: %e s wall, %M KB peak RSS" "$BIN" embed \
  --model "precomputed:$work/pre" --input "$work/one.txt" --output "$work/one.npy" --quiet
run memory --corpus-chunk-size "$N"
(ulimit -v "$LIMIT"; run streamed --mem-budget "$BUDGET")
"$PY" - "$work/memory" "$work/streamed" <<'PY'
import glob, json, sys
a, b = (json.load(open(glob.glob(d + "/*/*/SynthRetrieval.json")[0]))["scores"]["test"][0] for d in sys.argv[1:3])
keys = [k for k in a if k not in ("evaluation_time",)]
diff = [k for k in keys if a[k] != b.get(k)]
print("scores: %d values compared, %d differ; ndcg_at_10 %s / %s" % (len(keys), len(diff), a["ndcg_at_10"],
      b["ndcg_at_10"]))
sys.exit(1 if diff else 0)
PY
echo "vectors: $(du -sh "$work/pre/embeddings.npy" | cut -f1), store: $(du -sh "$work/pre/.cmteb-store" | cut -f1)," \
  "ulimit -v $LIMIT KB"
