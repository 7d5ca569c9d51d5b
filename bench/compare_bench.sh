#!/usr/bin/env bash
# compare_bench.sh: what sharing the forward pass saves in `cmteb compare`, and
# the paired bootstrap's speed against numpy.
#   bash bench/compare_bench.sh BUILD_DIR [SHARED_DIR] [MODEL_DIR]
# 1. four pooling variants of MODEL_DIR (default: the bert-tiny fixture) on
#    STSBenchmark + SICK-R: one `cmteb compare` against four `cmteb run --pooling`.
# 2. `cmteb check` with 10,000 resamples on the check fixtures (3 tasks, 1,100 items)
#    against the same paired bootstrap written with numpy (B = 10,000).
set -euo pipefail
bin="$1/cmteb"; shared="${2:-../shared}"; model="${3:-tests/fixtures/hf/bert-tiny}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
t() { local s e; s=$(date +%s.%N); "$@" > /dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
V=(--variant mean:pooling=mean --variant cls:pooling=cls --variant last:pooling=last --variant wmean:pooling=weightedmean)
T=STSBenchmark,SICK-R
c=$(t "$bin" compare --model "hf:$model" "${V[@]}" --tasks $T --data-dir "$shared/data" --output "$tmp/c" --quiet)
"$bin" compare --model "hf:$model" "${V[@]}" --tasks $T --data-dir "$shared/data" --output "$tmp/c" --quiet --overwrite 2>/dev/null | grep '^Forward passes'
s=0
for p in mean cls last weightedmean; do
  x=$(t "$bin" run --model "hf:$model" --pooling $p --model-name "solo/$p" --tasks $T --data-dir "$shared/data" --output "$tmp/s" --quiet --no-cache)
  s=$(echo "$s + $x" | bc)
done
echo "compare, 4 variants, one run:   ${c}s"
echo "four separate cmteb run:        ${s}s"
echo "ratio: $(echo "scale=2; $s / $c" | bc)x"
b=$(t "$bin" check --baseline tests/fixtures/results/check/baseline --candidate tests/fixtures/results/check/noise --resamples 10000)
py=$(t /usr/bin/python3 - <<'PY'
import json, numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score
base = "tests/fixtures/results/check/baseline/cmteb-test__tiny-model/1/.cmteb/"
cand = "tests/fixtures/results/check/noise/cmteb-test__tiny-model/1/.cmteb/"
def main(k, d, idx):
    if k == "mean": return np.mean(np.asarray(d["values"])[idx])
    if k == "spearman": return spearmanr(np.asarray(d["pred"])[idx], np.asarray(d["gold"])[idx]).correlation
    return average_precision_score(np.asarray(d["labels"])[idx], np.asarray(d["scores"])[idx])
rng = np.random.default_rng(42)
for task in ("SciFact", "STSBenchmark", "SprintDuplicateQuestions"):
    a = json.load(open(base + task + ".items.json")); b = json.load(open(cand + task + ".items.json"))
    n = len(a.get("values") or a.get("pred") or a.get("scores"))
    for _ in range(10000):
        idx = rng.integers(0, n, n); main(a["kind"], b, idx) - main(a["kind"], a, idx)
PY
)
echo "paired bootstrap, 3 tasks x 10,000 resamples: cmteb check ${b}s, numpy/scipy/sklearn ${py}s, ratio $(echo "scale=1; $py / $b" | bc)x"
