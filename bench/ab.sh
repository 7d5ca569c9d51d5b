#!/usr/bin/env bash
# ab.sh: two or more cmteb binaries on one task of bench/evaluator_bench.py's data, interleaved, whole process.
# usage: bench/ab.sh DATA_DIR N TASK BIN...   (DATA_DIR: made by `evaluator_bench.py make DIR 1.0`, or the
#        CMTEB_BENCH_DIR of evaluator_bench.sh; TASK: retrieval, classification, clustering, sts, pairclass,
#        reranking). Each round runs every binary once (`cmteb run --model precomputed:store --task-file
#        tasks/TASK.json --no-cache`, a fresh output folder), N rounds; prints per binary the minimum and
#        median of wall and CPU (user + sys) seconds. Interleaving spreads a shared machine's load over all of
#        them; compare medians, and CPU when the load moved.
set -eu
TIMEFORMAT='%3R %3U %3S'
D=$(cd "${1:?usage: bench/ab.sh DATA_DIR N TASK BIN...}" && pwd); N=${2:?N}; T=${3:?TASK}; shift 3
bins=(); for b in "$@"; do bins+=("$(realpath "$b")"); done
L=$(mktemp); trap 'rm -f "$L" "$L.t"; rm -rf "$D/ab-out"' EXIT
cd "$D"
for r in $(seq "$N"); do
  for b in "${bins[@]}"; do
    rm -rf "$D/ab-out"
    # bash's time: milliseconds (/usr/bin/time rounds to 10 ms, the size of the differences looked for)
    { time "$b" run --model precomputed:store --task-file "tasks/$T.json" --output "$D/ab-out" --quiet \
      --no-cache >/dev/null; } 2> "$L.t"
    echo "$b $(tail -1 "$L.t")" >> "$L"
  done
done
stat() { sort -n | awk '{a[NR]=$1} END {s = 0; for (i = 1; i <= NR; i++) s += a[i]; printf "min %.3f med %.3f mean %.3f", a[1], a[int((NR+1)/2)], s / NR}'; }
for b in "${bins[@]}"; do
  w=$(grep "^$b " "$L" | awk '{print $2}' | stat)
  c=$(grep "^$b " "$L" | awk '{print $3 + $4}' | stat)
  printf '%-40s wall %s   cpu %s\n' "$b" "$w" "$c"
done
