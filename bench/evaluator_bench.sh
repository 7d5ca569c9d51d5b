#!/usr/bin/env bash
# evaluator_bench.sh: issue 14's six task shapes, whole process, cmteb against the Python reference
# (bench/evaluator_bench.py: numpy / scikit-learn / scipy as MTEB v1 runs them) on the same synthetic tasks
# and the same 384-d vectors: one precomputed store (texts.jsonl + embeddings.npy) holding every text.
# usage: bench/evaluator_bench.sh BUILD_DIR [REPS [SCALE [TASKS]]]   (from the repository root)
#   REPS   runs per side, best taken (default 3); SCALE shrinks every task (default 1.0 = the issue's sizes);
#   TASKS  comma list of retrieval,classification,clustering,sts,pairclass,reranking (default all).
# The first cmteb run indexes the store (precomputed: builds its persisted index once); it is timed
# separately ("store index") and not counted in the per-task figures. CMTEB_BENCH_DIR keeps the data.
set -eu
BUILD=$(cd "${1:?usage: bench/evaluator_bench.sh BUILD_DIR [REPS [SCALE [TASKS]]]}" && pwd)
REPS=${2:-3}
SCALE=${3:-1.0}
TASKS=${4:-retrieval,classification,clustering,sts,pairclass,reranking}
SRC=$(pwd)
T=${CMTEB_BENCH_DIR:-$(mktemp -d)}
[ -n "${CMTEB_BENCH_DIR:-}" ] || trap 'rm -rf "$T"' EXIT
mkdir -p "$T"
[ -f "$T/store/embeddings.npy" ] || /usr/bin/python3 "$SRC/bench/evaluator_bench.py" make "$T" "$SCALE"
cd "$T"
now() { date +%s.%N; }
first=$(now)
"$BUILD/cmteb" run --model precomputed:store --task-file tasks/sts.json --output "$T/warm" --quiet --no-cache >/dev/null
echo "store index (first run, once): $(echo "$(now) - $first" | bc) s"
printf '%-15s %10s %10s %8s   %-22s\n' task "cmteb s" "python s" ratio "score (cmteb / python)"
for t in ${TASKS//,/ }; do
    bc_=999; bp=999; sc=; sp=
    for r in $(seq "$REPS"); do
        rm -rf "$T/out"
        a=$(now)
        "$BUILD/cmteb" run --model precomputed:store --task-file "tasks/$t.json" --output "$T/out" --quiet --no-cache >/dev/null
        b=$(now)
        sp=$(/usr/bin/python3 "$SRC/bench/evaluator_bench.py" ref "$T" "$t")
        c=$(now)
        bc_=$(echo "x=$b - $a; if (x < $bc_) x else $bc_" | bc)
        bp=$(echo "x=$c - $b; if (x < $bp) x else $bp" | bc)
    done
    sc=$(/usr/bin/python3 "$SRC/bench/evaluator_bench.py" score "$(find "$T/out" -name 'Bench*.json' -not -path '*/.cmteb/*' | head -1)")
    printf '%-15s %10.3f %10.3f %7.1fx   %s / %s\n' "$t" "$bc_" "$bp" "$(echo "$bp / $bc_" | bc -l)" "$sc" "$sp"
done
