#!/usr/bin/env bash
# evaluator_bench.sh: issue 14's six task shapes, whole process, cmteb against the Python reference
# (bench/evaluator_bench.py: numpy / scikit-learn / scipy as MTEB v1 runs them) on the same synthetic tasks
# and the same 384-d vectors: one precomputed store (texts.jsonl + embeddings.npy) holding every text.
# usage: bench/evaluator_bench.sh BUILD_DIR [REPS [SCALE [TASKS]]]   (from the repository root)
#   REPS   runs per side, best taken (default 3); SCALE shrinks every task (default 1.0 = the issue's sizes);
#   TASKS  comma list of retrieval,classification,clustering,sts,pairclass,reranking (default all).
# The first cmteb run indexes the store (precomputed: builds its persisted index once); it is timed
# separately ("store index") and not counted in the per-task figures. CMTEB_BENCH_DIR keeps the data.
# Each run is timed by /usr/bin/time: wall and CPU (user + sys of the whole process); the two sides run
# interleaved, and the best of REPS is kept for each (wall and CPU independently). The load average is
# printed before and after: on a shared machine compare the CPU columns.
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
TM=$T/time.txt
# timed CMD...: runs CMD under /usr/bin/time, leaving "wall cpu" in $TM (stdout is CMD's)
timed() { /usr/bin/time -f "%e %U %S" -o "$TM" "$@" && awk '{printf "%.3f %.3f\n", $1, $2 + $3}' "$TM" > "$TM.2"; }
best() { echo "if ($1 < $2) $1 else $2" | bc; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
first=$(now)
"$BUILD/cmteb" run --model precomputed:store --task-file tasks/sts.json --output "$T/warm" --quiet --no-cache >/dev/null
echo "store index (first run, once): $(echo "$(now) - $first" | bc) s"
printf '%-15s %9s %9s %9s %9s %7s %7s   %-22s\n' task "cmteb s" "cpu s" "python s" "cpu s" "wall x" "cpu x" \
    "score (cmteb / python)"
for t in ${TASKS//,/ }; do
    bc_=999; bcc=999; bp=999; bpc=999; sc=; sp=
    for r in $(seq "$REPS"); do
        rm -rf "$T/out"
        timed "$BUILD/cmteb" run --model precomputed:store --task-file "tasks/$t.json" --output "$T/out" --quiet \
            --no-cache >/dev/null
        read -r w c < "$TM.2"; bc_=$(best "$w" "$bc_"); bcc=$(best "$c" "$bcc")
        sp=$(timed /usr/bin/python3 "$SRC/bench/evaluator_bench.py" ref "$T" "$t")
        read -r w c < "$TM.2"; bp=$(best "$w" "$bp"); bpc=$(best "$c" "$bpc")
    done
    res=$(find "$T/out" -name 'Bench*.json' -not -path '*/.cmteb/*' | head -1)
    sc=$(/usr/bin/python3 "$SRC/bench/evaluator_bench.py" score "$res")
    printf '%-15s %9.3f %9.3f %9.3f %9.3f %6.1fx %6.1fx   %s / %s\n' "$t" "$bc_" "$bcc" "$bp" "$bpc" \
        "$(echo "$bp / $bc_" | bc -l)" "$(echo "$bpc / $bcc" | bc -l)" "$sc" "$sp"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
