#!/usr/bin/env bash
# sts_real.sh: STSBenchmark and SICK-R from ../shared/data with `hash` and (when
# CMTEB_GLOVE names GloVe vectors) GloVe: valid result files whose cosine
# Spearman equals MTEB's computation (sklearn paired cosine in float32, scipy
# spearmanr) on the same vectors (dumped with `cmteb embed`) to 1e-9: cmteb
# reproduces numpy's float32 reductions bit for bit (tasks/metrics/npfloat.h),
# so even GloVe's zero vectors and near-duplicates tie exactly as in MTEB.
set -euo pipefail
data="$CMTEB_SHARED/data"
[ -d "$data/mteb/stsbenchmark-sts" ] || { echo "SKIP: $data/mteb/stsbenchmark-sts absent"; exit 77; }
/usr/bin/python3 -c 'import scipy' 2>/dev/null || { echo "SKIP: Debian python3-scipy absent"; exit 77; }
models=("hash")
[ -n "${CMTEB_GLOVE:-}" ] && [ -f "$CMTEB_GLOVE" ] && models+=("glove:$CMTEB_GLOVE")
out="$CMTEB_TMP/e2e_sts_real"
rm -rf "$out"; mkdir -p "$out"
have_embed=1
"$CMTEB_BIN" embed --help >/dev/null 2>&1 || have_embed=0
pass=0
idx=0
for m in "${models[@]}"; do
  idx=$((idx+1))
  "$CMTEB_BIN" run --model "$m" --tasks STSBenchmark,SICK-R --data-dir "$data" --output "$out/res$idx" --quiet >/dev/null
  for task in STSBenchmark SICK-R; do
    case $task in STSBenchmark) repo=stsbenchmark-sts; lo=0; hi=5;; SICK-R) repo=sickr-sts; lo=1; hi=5;; esac
    res=$(ls "$out"/res$idx/*/*/"$task".json | head -1)
    if [ $have_embed = 0 ]; then
      /usr/bin/python3 -c "import json; r=json.load(open('$res')); assert 0 < r['scores']['test'][0]['main_score'] < 1"
      pass=$((pass+1)); continue
    fi
    /usr/bin/python3 - "$data/mteb/$repo/test.jsonl.gz" "$out" <<'PY'
import gzip, json, sys
rows = [json.loads(l) for l in gzip.open(sys.argv[1], "rt")]
for k in ("sentence1", "sentence2"):
    with open(f"{sys.argv[2]}/{k}.jsonl", "w") as f:
        for r in rows:
            f.write(json.dumps({"text": r[k]}) + "\n")
with open(f"{sys.argv[2]}/gold.json", "w") as f:
    json.dump([r["score"] for r in rows], f)
PY
    for k in sentence1 sentence2; do
      "$CMTEB_BIN" embed --model "$m" --role query --input "$out/$k.jsonl" --output "$out/$k.npy" --quiet
    done
    tol=1e-9
    /usr/bin/python3 - "$out" "$res" "$lo" "$hi" "$tol" <<'PY'
import json, sys
import numpy as np
from scipy.stats import spearmanr, pearsonr
from sklearn.metrics.pairwise import paired_cosine_distances
out, res, lo, hi, tol = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
a, b = np.load(f"{out}/sentence1.npy"), np.load(f"{out}/sentence2.npy")
gold = (np.array(json.load(open(f"{out}/gold.json"))) - lo) / (hi - lo)
cos = 1 - paired_cosine_distances(a, b)
want = spearmanr(cos, gold)[0]
got = json.load(open(res))["scores"]["test"][0]["cosine_spearman"]
print(res, "cmteb", got, "scipy", want)
assert abs(got - want) <= tol, (got, want, tol)
PY
    pass=$((pass+1))
  done
done
echo "$pass passed, 0 failed"
