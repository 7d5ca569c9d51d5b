#!/usr/bin/env bash
# scifact.sh: `cmteb run --tasks SciFact` on ../shared/data (BEIR layout) with
# `hash` and, when CMTEB_GLOVE names GloVe vectors, GloVe. The result file has
# MTEB's 35 retrieval keys, and every metric equals a numpy + Python
# reference of BEIR's exact search and pytrec_eval
# (tests/reference/ref_rank_lib.py) on the same vectors, dumped with
# `cmteb embed`: ndcg_at_10 exactly (5 decimals), the rest to one rounding
# unit (1e-5; FAISS may pick a different one of several tied documents at
# the top-1000 boundary).
set -euo pipefail
data="$CMTEB_SHARED/data"
[ -d "$data/mteb/scifact" ] || { echo "SKIP: $data/mteb/scifact absent"; exit 77; }
/usr/bin/python3 -c 'import numpy, sklearn' 2>/dev/null || { echo "SKIP: Debian python3-numpy/sklearn absent"; exit 77; }
models=("hash")
[ -n "${CMTEB_GLOVE:-}" ] && [ -f "$CMTEB_GLOVE" ] && models+=("glove:$CMTEB_GLOVE")
out="$CMTEB_TMP/e2e_scifact"
rm -rf "$out"; mkdir -p "$out"
# the texts MTEB embeds: queries of the test qrels, and (title + " " + text).strip()
/usr/bin/python3 - "$data/mteb/scifact" "$out" <<'PY'
import csv, json, sys
src, out = sys.argv[1], sys.argv[2]
qrels = {}
with open(f"{src}/qrels/test.tsv") as f:
    for row in csv.DictReader(f, delimiter="\t"):
        qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
queries = {}
for line in open(f"{src}/queries.jsonl"):
    q = json.loads(line)
    if q["_id"] in qrels:
        queries[q["_id"]] = q["text"]
docs = [json.loads(l) for l in open(f"{src}/corpus.jsonl")]
with open(f"{out}/queries.jsonl", "w") as f:
    for qid, t in queries.items():
        f.write(json.dumps({"text": t}) + "\n")
with open(f"{out}/corpus.jsonl", "w") as f:
    for d in docs:
        t = (d["title"] + " " + d["text"]).strip() if "title" in d else d["text"].strip()
        f.write(json.dumps({"text": t}) + "\n")
json.dump({"qrels": qrels, "query_ids": list(queries), "doc_ids": [d["_id"] for d in docs]}, open(f"{out}/meta.json", "w"))
PY
idx=0
for m in "${models[@]}"; do
  idx=$((idx+1))
  "$CMTEB_BIN" run --model "$m" --tasks SciFact --data-dir "$data" --output "$out/res$idx" --quiet >/dev/null
  res=$(ls "$out"/res$idx/*/*/SciFact.json | head -1)
  "$CMTEB_BIN" embed --model "$m" --role query --input "$out/queries.jsonl" --output "$out/q$idx.npy" --quiet
  "$CMTEB_BIN" embed --model "$m" --role document --input "$out/corpus.jsonl" --output "$out/d$idx.npy" --quiet
  /usr/bin/python3 - "$CMTEB_SRC/tests/reference" "$out" "$idx" "$res" "$m" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from ref_rank_lib import beir_search, beir_evaluate
out, idx, res, model = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
meta = json.load(open(f"{out}/meta.json"))
q, d = np.load(f"{out}/q{idx}.npy"), np.load(f"{out}/d{idx}.npy")
ks = [1, 3, 5, 10, 20, 100, 1000]
results = beir_search(q, d, meta["query_ids"], meta["doc_ids"], max(ks))
want, _ = beir_evaluate(results, meta["qrels"], ks)
r = json.load(open(res))
got = r["scores"]["test"][0]
keys = [k for k in got if k.split("_at_")[0] in ("ndcg", "map", "recall", "precision", "mrr")]
assert len(keys) == 35, keys
assert got["main_score"] == got["ndcg_at_10"] and got.get("cmteb_index") == "Flat", got
assert r["task_name"] == "SciFact"
bad = [(k, got[k], want[k]) for k in keys if abs(got[k] - want[k]) > 1e-5 + 1e-12]
assert got["ndcg_at_10"] == want["ndcg_at_10"], (got["ndcg_at_10"], want["ndcg_at_10"])
assert not bad, bad
same = sum(got[k] == want[k] for k in keys)
print(f"SciFact {model}: ndcg_at_10 {got['ndcg_at_10']} (reference {want['ndcg_at_10']}), {same}/35 metrics identical")
PY
done
echo "${#models[@]} models passed"
