#!/usr/bin/env bash
# learning_bench.sh [BUILD_DIR] [REPEATS]: cmteb's classification and clustering
# cores vs scikit-learn on the same float32 vectors, in one run, as a ratio of
# times (lower is better for cmteb).
#   classification: Banking77-sized (10,003 train / 3,080 test, 77 classes,
#                   dim 300), MTEB's 10-experiment logistic-regression protocol
#   clustering:     10,000 documents, 20 labels, dim 300, MiniBatchKMeans
#                   (batch 500, k-means++) + V-measure
# Encoding is not timed (both sides read the same .npy files). Each side runs
# REPEATS times (default 3); the best time counts. BLAS threads: whatever
# OpenBLAS picks on both sides (set OPENBLAS_NUM_THREADS to pin).
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$src/build}" && pwd)"
reps="${2:-3}"
work="${TMPDIR:-/tmp}/cmteb-learning-bench"
mkdir -p "$work"
[ -s "$work/clu_y.npy" ] || /usr/bin/python3 "$src/bench/learning_bench.py" "$work" make
# Build the C driver against the library of BUILD_DIR, with the same link line as cmteb.
cc -O3 -march=native -std=gnu11 -fopenmp -I "$src/include" $(for l in core engine embedding datasets tasks reports; do printf -- "-I %s/%s/include " "$src" "$l"; done) -I "$src" -c "$src/bench/learning_bench.c" -o "$work/learning_bench.o"
libs="$(sed -e 's/^.* -o cmteb //' "$build/CMakeFiles/cmteb.dir/link.txt")"
(cd "$build" && c++ "$work/learning_bench.o" -o "$work/learning_bench" $libs)

best() {  # best of REPEATS runs of a command printing {"seconds": ...}
  local out bestline="" bestsec=""
  for _ in $(seq "$reps"); do
    out="$("$@")"
    sec="$(printf '%s' "$out" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')"
    if [ -z "$bestsec" ] || /usr/bin/python3 -c "import sys; sys.exit(0 if $sec < $bestsec else 1)"; then
      bestsec="$sec"; bestline="$out"
    fi
  done
  printf '%s\n' "$bestline"
}

c_clf="$(best "$work/learning_bench" clf "$work/clf_Xtrain.npy" "$work/clf_ytrain.npy" "$work/clf_Xtest.npy" "$work/clf_ytest.npy" 10 8)"
p_clf="$(best /usr/bin/python3 "$src/bench/learning_bench.py" "$work" clf)"
c_clu="$(best "$work/learning_bench" cluster "$work/clu_X.npy" "$work/clu_y.npy" 500)"
p_clu="$(best /usr/bin/python3 "$src/bench/learning_bench.py" "$work" cluster)"
/usr/bin/python3 - "$c_clf" "$p_clf" "$c_clu" "$p_clu" <<'PY'
import json, sys
c_clf, p_clf, c_clu, p_clu = (json.loads(a) for a in sys.argv[1:])
def row(name, c, p, metric):
    print("| %-44s | %8.3f | %8.3f | %5.2f | %s %.4f vs %.4f |" % (name, c["seconds"], p["seconds"],
          c["seconds"] / p["seconds"], metric, c["score"], p["score"]))
print("| task | cmteb (s) | scikit-learn (s) | ratio | score (cmteb vs sklearn) |")
print("|---|---|---|---|---|")
row("classification, 10 experiments (77 x 8 rows)", c_clf, p_clf, "accuracy")
row("  of which logistic-regression fits", {"seconds": c_clf["fit_seconds"], "score": c_clf["mean_n_iter"]},
    {"seconds": p_clf["fit_seconds"], "score": p_clf["mean_n_iter"]}, "mean n_iter")
row("clustering, 10,000 docs, k=20", c_clu, p_clu, "v_measure")
print("(clustering steps: cmteb %d, sklearn %d)" % (c_clu["n_steps"], p_clu["n_steps"]))
PY
