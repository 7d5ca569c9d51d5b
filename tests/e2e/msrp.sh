#!/usr/bin/env bash
# msrp.sh: MSRP (../shared/data/extra/msrp) as a user task through --task-file
# (tests/fixtures/ranking/msrp_task.json; a copy with an absolute "data" path
# when the checkout is not beside shared/), with `hash` and, when CMTEB_GLOVE
# names GloVe vectors, GloVe. All 31 pair-classification keys must equal
# MTEB's evaluator written with scikit-learn (tests/reference/ref_rank_lib.py)
# on the same vectors, dumped with `cmteb embed`, to 1e-6 (numpy sums float32
# dot products in another order, which can swap near-tied pairs: ~2e-7 on
# dot_ap with hash vectors).
set -euo pipefail
msrp="$CMTEB_SHARED/data/extra/msrp"
[ -f "$msrp/test.jsonl" ] || { echo "SKIP: $msrp absent"; exit 77; }
/usr/bin/python3 -c 'import numpy, sklearn' 2>/dev/null || { echo "SKIP: Debian python3-numpy/sklearn absent"; exit 77; }
models=("hash")
[ -n "${CMTEB_GLOVE:-}" ] && [ -f "$CMTEB_GLOVE" ] && models+=("glove:$CMTEB_GLOVE")
out="$CMTEB_TMP/e2e_msrp"
rm -rf "$out"; mkdir -p "$out"
task="$CMTEB_SRC/tests/fixtures/ranking/msrp_task.json"
if [ ! -f "$(dirname "$task")/../../../../shared/data/extra/msrp/test.jsonl" ]; then
  sed "s|\"data\": \"[^\"]*\"|\"data\": \"$msrp\"|" "$task" > "$out/msrp_task.json"
  task="$out/msrp_task.json"
fi
/usr/bin/python3 - "$msrp/test.jsonl" "$out" <<'PY'
import json, sys
row = json.loads(open(sys.argv[1], encoding="utf-8-sig").readline())
uniq = list(dict.fromkeys(row["sent1"] + row["sent2"]))
with open(f"{sys.argv[2]}/texts.jsonl", "w") as f:
    for t in uniq:
        f.write(json.dumps({"text": t}) + "\n")
json.dump(row, open(f"{sys.argv[2]}/pairs.json", "w"))
PY
idx=0
for m in "${models[@]}"; do
  idx=$((idx+1))
  "$CMTEB_BIN" run --model "$m" --task-file "$task" --output "$out/res$idx" --quiet >/dev/null
  res=$(ls "$out"/res$idx/*/*/MSRP.json | head -1)
  "$CMTEB_BIN" embed --model "$m" --role query --input "$out/texts.jsonl" --output "$out/e$idx.npy" --quiet
  /usr/bin/python3 - "$CMTEB_SRC/tests/reference" "$out" "$idx" "$res" "$m" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from ref_rank_lib import evaluate
out, idx, res, model = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
row = json.load(open(f"{out}/pairs.json"))
texts = [json.loads(l)["text"] for l in open(f"{out}/texts.jsonl")]
E = np.load(f"{out}/e{idx}.npy")
pos = {t: i for i, t in enumerate(texts)}
a = E[[pos[t] for t in row["sent1"]]]
b = E[[pos[t] for t in row["sent2"]]]
want, _ = evaluate(a, b, row["labels"])
got = json.load(open(res))["scores"]["test"][0]
assert got["main_score"] == got["cosine_ap"]
bad = []
for k, v in want.items():
    tol = 1e-6  # float32 dot products summed in another order can swap near-tied pairs: ~1e-7 on AP
    if abs(got[k] - v) > tol * max(1.0, abs(v)):
        bad.append((k, got[k], v))
assert len(want) == 31 and not bad, bad
print(f"MSRP {model}: cosine_ap {got['cosine_ap']:.6f} (reference {want['cosine_ap']:.6f}), 31 keys match")
PY
done
echo "${#models[@]} models passed"
