#!/usr/bin/env bash
# predictions.sh: `cmteb run --save-predictions` writes each retrieval query's top hits as a TREC run
# file (MODEL_DIR/predictions/<Task>.<split>.trec) that is exactly the ranking the metrics were computed
# on: nDCG@10 and recall@100 recomputed in Python from the run file and the qrels equal the result file's
# values (DemoRetrieval, and SciFact when ../shared/data is there); --predictions-top-k caps the hits;
# a run without the flag writes none; a corpus listing an id twice gives one line per id, and one warning.
set -uo pipefail
out="$CMTEB_TMP/e2e_predictions"
rm -rf "$out"; mkdir -p "$out"
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }

# recompute RUN QRELS RESULT.json: trec_eval nDCG@10 (gain = grade, log2(rank + 1)) and recall@100
# (relevant = grade > 0) averaged over the run's queries, against the result file (5 decimals).
recompute() {
  /usr/bin/python3 - "$@" <<'PY'
import collections, json, math, sys
run_path, qrels_path, res_path = sys.argv[1:4]
qrels = collections.defaultdict(dict)
for i, line in enumerate(open(qrels_path)):
    f = line.rstrip("\n").split("\t")
    if i == 0 and not f[-1].lstrip("-").isdigit():
        continue   # header
    qrels[f[0]][f[1]] = int(f[2])
run = collections.defaultdict(list)
for line in open(run_path):
    qid, q0, doc, rank, score, tag = line.split()
    run[qid].append((int(rank), doc, float(score)))
ndcg, rec = [], []
for qid, hits in run.items():
    hits.sort()
    assert [r for r, _, _ in hits] == list(range(1, len(hits) + 1)), "ranks 1..n"
    assert all(hits[i][2] >= hits[i + 1][2] for i in range(len(hits) - 1)), "scores descending"
    rel = qrels[qid]
    dcg = sum(rel.get(d, 0) / math.log2(r + 1) for r, d, _ in hits[:10])
    ideal = sorted(rel.values(), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    ndcg.append(dcg / idcg if idcg > 0 else 0.0)
    nrel = sum(1 for g in rel.values() if g > 0)
    rec.append(sum(1 for _, d, _ in hits[:100] if rel.get(d, 0) > 0) / nrel if nrel else 0.0)
scores = json.load(open(res_path))["scores"]
s = next(iter(scores.values()))[0]
want = (s["ndcg_at_10"], s["recall_at_100"])
got = (round(sum(ndcg) / len(ndcg), 5), round(sum(rec) / len(rec), 5))
print(f"{run_path}: {len(run)} queries, nDCG@10 {got[0]} (result {want[0]}), recall@100 {got[1]} (result {want[1]})")
sys.exit(0 if all(abs(a - b) <= 1.5e-5 for a, b in zip(got, want)) else 1)
PY
}

"$CMTEB_BIN" run --model hash --tasks DemoRetrieval --output "$out/demo" --save-predictions --quiet > /dev/null 2>&1 \
  || bad "demo run failed"
run=$(ls "$out"/demo/*/*/predictions/DemoRetrieval.test.trec 2>/dev/null | head -1)
res=$(ls "$out"/demo/*/*/DemoRetrieval.json 2>/dev/null | head -1)
qrels="$CMTEB_SRC/datasets/demo/retrieval/qrels/test.tsv"
[ -n "$run" ] && [ -s "$run" ] && ok || bad "no run file for DemoRetrieval"
[ -n "$run" ] && recompute "$run" "$qrels" "$res" && ok || bad "DemoRetrieval run file does not reproduce the metrics"

"$CMTEB_BIN" run --model hash --tasks DemoRetrieval --output "$out/top2" --predictions-top-k 2 --quiet > /dev/null 2>&1 \
  || bad "top-k run failed"
run2=$(ls "$out"/top2/*/*/predictions/DemoRetrieval.test.trec 2>/dev/null | head -1)
[ -n "$run2" ] && [ "$(awk '$4 > 2' "$run2" | wc -l)" -eq 0 ] && [ "$(awk '$4 == 2' "$run2" | wc -l)" -gt 0 ] && ok \
  || bad "--predictions-top-k 2: want ranks 1-2 only"

"$CMTEB_BIN" run --model hash --tasks DemoRetrieval --output "$out/none" --quiet > /dev/null 2>&1 || bad "plain run failed"
[ -z "$(ls -d "$out"/none/*/*/predictions 2>/dev/null)" ] && ok || bad "a run without --save-predictions wrote predictions"

# a corpus listing an id twice (another text under gard-1): each query keeps that id's better hit, once, in the
# run file too (the metrics take another path for such a query: its run lines must not differ in form)
mkdir -p "$out/dupdata"
cp -r "$CMTEB_SRC/datasets/demo/retrieval/." "$out/dupdata/"
echo '{"_id": "gard-1", "title": "Tomato care", "text": "Water tomato plants deeply; sun and a stake help too."}' \
  >> "$out/dupdata/corpus.jsonl"
printf '{"name": "DupRetrieval", "type": "Retrieval", "data": "%s", "split": "test"}\n' "$out/dupdata" > "$out/dup.json"
"$CMTEB_BIN" run --model hash --task-file "$out/dup.json" --output "$out/dup" --save-predictions --quiet > /dev/null \
  2> "$out/dup.err" || bad "duplicate-id run failed"
[ "$(grep -c "lists document id 'gard-1' more than once" "$out/dup.err")" -eq 1 ] && ok \
  || bad "duplicate id: want one warning naming gard-1, got: $(cat "$out/dup.err")"
run=$(ls "$out"/dup/*/*/predictions/DupRetrieval.test.trec 2>/dev/null | head -1)
res=$(ls "$out"/dup/*/*/DupRetrieval.json 2>/dev/null | head -1)
[ -n "$run" ] && [ "$(awk '{print $1, $3}' "$run" | sort | uniq -d | wc -l)" -eq 0 ] \
  && [ "$(awk '$3 == "gard-1"' "$run" | wc -l)" -eq "$(cut -d' ' -f1 "$run" | sort -u | wc -l)" ] && ok \
  || bad "duplicate id: want gard-1 once per query in the run file"
[ -n "$run" ] && recompute "$run" "$out/dupdata/qrels/test.tsv" "$res" && ok \
  || bad "duplicate-id run file does not reproduce the metrics"

if [ -d "$CMTEB_SHARED/data/mteb/scifact" ]; then
  "$CMTEB_BIN" run --model hash --tasks SciFact --data-dir "$CMTEB_SHARED/data" --output "$out/sf" --save-predictions \
    --quiet > /dev/null 2>&1 || bad "SciFact run failed"
  run=$(ls "$out"/sf/*/*/predictions/SciFact.test.trec 2>/dev/null | head -1)
  res=$(ls "$out"/sf/*/*/SciFact.json 2>/dev/null | head -1)
  [ -n "$run" ] && [ "$(cut -d' ' -f1 "$run" | sort -u | wc -l)" -eq 300 ] && ok || bad "SciFact: want 300 queries in the run file"
  [ -n "$run" ] && recompute "$run" "$CMTEB_SHARED/data/mteb/scifact/qrels/test.tsv" "$res" && ok \
    || bad "SciFact run file does not reproduce the metrics"
else
  echo "note: $CMTEB_SHARED/data absent, SciFact part skipped"
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
