#!/usr/bin/env bash
# mpi.sh: `mpirun -np 2 --oversubscribe cmteb run ...` (rank i runs as shard i/2, rank 0 merges)
# writes exactly the files of the single run (byte for byte except evaluation_time), on the
# demo benchmark and on SciFact from $CMTEB_SHARED/data (hash model). A cmteb built without
# MPI refuses a run under mpirun's environment instead of running N full copies.
# Skips when mpirun is absent.
set -euo pipefail
B="$CMTEB_BIN"
out="$CMTEB_TMP/e2e_mpi"
rm -rf "$out"; mkdir -p "$out"; cd "$out"

if ! ldd "$B" | grep libmpi >/dev/null; then
  # no MPI in this build: a launch under mpirun must be refused, with the way out
  set +e
  msg=$(OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=1 "$B" run --model hash --benchmark demo --output x 2>&1); rc=$?
  set -e
  [ $rc = 1 ] && grep -q "built without MPI" <<<"$msg" && grep -q -- "--shard" <<<"$msg" \
    || { echo "no-MPI build under mpirun: exit $rc: $msg"; exit 1; }
  [ ! -e x ] || { echo "the refused run wrote results"; exit 1; }
  echo "SKIP: this cmteb has no MPI (the refusal under mpirun's environment was checked)"; exit 77
fi
command -v mpirun >/dev/null || { echo "SKIP: mpirun absent (apt-get install openmpi-bin libopenmpi-dev)"; exit 77; }
mpi=(mpirun -np 2 --oversubscribe -x ASAN_OPTIONS=detect_leaks=0 -x OPENBLAS_NUM_THREADS)
[ "$(id -u)" = 0 ] && mpi+=(--allow-run-as-root)
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"

same_files() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import os, re, sys
a, b = sys.argv[1], sys.argv[2]
def files(root):
    return {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs
            if not os.path.relpath(os.path.join(d, f), root).startswith(".cmteb/run.lock")}
fa, fb = files(a), files(b)
assert fa == fb, ("file sets differ", sorted(fa ^ fb))
timing = re.compile(rb'"evaluation_time": [-0-9.eE+]+')
for rel in sorted(fa):
    x, y = open(os.path.join(a, rel), "rb").read(), open(os.path.join(b, rel), "rb").read()
    if rel.endswith(".json"):
        x, y = timing.sub(b"T", x), timing.sub(b"T", y)
    assert x == y, f"{rel} differs between the single run and the MPI run"
print(f"{len(fa)} files identical except evaluation_time")
PY
}

demo=(--model hash --benchmark demo --corpus-chunk-size 3 --quiet)
"$B" run "${demo[@]}" --output single >/dev/null
"${mpi[@]}" "$B" run "${demo[@]}" --output viampi > mpi.log 2>&1 || { cat mpi.log; exit 1; }
grep -q "Merged 2 shards" mpi.log || { cat mpi.log; echo "rank 0 did not merge"; exit 1; }
[ -f viampi/.shards/1-of-2/cmteb__hash-512/1/.cmteb/shard/DemoRetrieval.test.hits ] || { echo "no rank-1 shard"; exit 1; }
same_files single/cmteb__hash-512/1 viampi/cmteb__hash-512/1

data="$CMTEB_SHARED/data"
if [ -d "$data/mteb/scifact" ]; then
  sf=(--model hash --tasks SciFact --data-dir "$data" --corpus-chunk-size 1000 --save-predictions --quiet)
  "$B" run "${sf[@]}" --output sf_single >/dev/null
  "${mpi[@]}" "$B" run "${sf[@]}" --output sf_mpi > sf.log 2>&1 || { cat sf.log; exit 1; }
  same_files sf_single/cmteb__hash-512/1 sf_mpi/cmteb__hash-512/1
else
  echo "note: $data/mteb/scifact absent, SciFact part skipped"
fi
echo "mpi: all checks passed"
