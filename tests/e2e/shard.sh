#!/usr/bin/env bash
# shard.sh: `cmteb run --shard 0/2` + `--shard 1/2` + `cmteb merge` write exactly the files of the
# single run (every result, items side file and prediction file byte for byte, except the
# evaluation_time values): on the demo benchmark (every task type; retrieval's corpus split across the
# shards, the other tasks' texts split by hash, each shard embedding one disjoint slice), on STSBenchmark,
# Banking77 and SICK-R in 3 shards, and on SciFact from $CMTEB_SHARED/data (hash model, 5183
# documents, top-1000 hits, --save-predictions) also in 3 shards given in any order. Shards own even contiguous
# slices; the exact search scores a document the same way wherever it sits, so neither the slicing nor the
# --corpus-chunk-size (different between the single run and the shards below) changes a bit. Then the
# errors: a missing shard, shards of different commands, a truncated hits file, a bad --shard.
set -euo pipefail
B="$CMTEB_BIN"
out="$CMTEB_TMP/e2e_shard"
rm -rf "$out"; mkdir -p "$out"; cd "$out"

# same_files SINGLE MERGED: every file of the single run's model folder equals the merged one
same_files() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import os, re, sys
a, b = sys.argv[1], sys.argv[2]
def files(root):
    out = set()
    for d, dirs, fs in os.walk(root):
        for f in fs:
            rel = os.path.relpath(os.path.join(d, f), root)
            if rel in (".cmteb/run.lock",) or rel.startswith(".cmteb/shard"):
                continue
            out.add(rel)
    return out
fa, fb = files(a), files(b)
assert fa == fb, ("file sets differ", sorted(fa ^ fb))
timing = re.compile(rb'"evaluation_time": [-0-9.eE+]+')
n_time = 0
for rel in sorted(fa):
    x, y = open(os.path.join(a, rel), "rb").read(), open(os.path.join(b, rel), "rb").read()
    if rel.endswith(".json"):
        n_time += len(timing.findall(x))
        x, y = timing.sub(b'"evaluation_time": T', x), timing.sub(b'"evaluation_time": T', y)
    assert x == y, f"{rel} differs between the single run and the merge"
print(f"{len(fa)} files identical ({n_time} evaluation_time values left out)")
PY
}

# 1. the demo benchmark, every task type
# (--corpus-chunk-size 3: many small chunks over the small demo corpus)
demo=(--model hash --benchmark demo --corpus-chunk-size 3 --quiet)
"$B" run "${demo[@]}" --output single >/dev/null
"$B" run "${demo[@]}" --output s1 --shard 1/2 >/dev/null
"$B" run "${demo[@]}" --output s0 --shard 0/2 >/dev/null
[ -f s0/cmteb__hash-512/1/.cmteb/shard/DemoRetrieval.test.hits ] || { echo "no hits file in shard 0"; exit 1; }
[ ! -e s1/cmteb__hash-512/1/DemoSTS.json ] || { echo "a shard wrote a result file of its own"; exit 1; }
"$B" merge --output merged --quiet s0 s1 >/dev/null
same_files single/cmteb__hash-512/1 merged/cmteb__hash-512/1
[ ! -e merged/cmteb__hash-512/1/.cmteb/shard-merge ] || { echo "the merge left its gathered vectors"; exit 1; }
# the other task types were split too: each shard embedded a disjoint slice of every task's texts
# (vector stores of 24-byte key-log entries), which together hold each task's texts once
/usr/bin/python3 - s0 s1 <<'PY'
import os, sys
for task in ("DemoClassification", "DemoClustering", "DemoPairClassification", "DemoReranking", "DemoSTS",
             "DemoSummarization"):
    keys = []
    for d in sys.argv[1:]:
        raw = open(f"{d}/cmteb__hash-512/1/.cmteb/shard/{task}.vectors/keys.bin", "rb").read()
        keys.append({raw[i:i + 16] for i in range(0, len(raw), 24)})
    assert all(keys), (task, [len(k) for k in keys])          # every shard had a share
    assert not keys[0] & keys[1], task                         # disjoint
print("non-retrieval slices:", "disjoint and non-empty in both shards")
PY
# shard folders of the older layout (shard 0 evaluated DemoSTS whole, no slices): its result is copied
cp -r s0 old0 && cp -r s1 old1
for d in old0 old1; do rm -rf $d/cmteb__hash-512/1/.cmteb/shard/DemoSTS.json $d/cmteb__hash-512/1/.cmteb/shard/DemoSTS.vectors; done
cp single/cmteb__hash-512/1/DemoSTS.json old0/cmteb__hash-512/1/
"$B" merge --output merged_old --quiet old0 old1 >/dev/null
cmp -s single/cmteb__hash-512/1/DemoSTS.json merged_old/cmteb__hash-512/1/DemoSTS.json \
  || { echo "old-layout shard folders: DemoSTS.json not copied from shard 0"; exit 1; }
# a shard whose slice of a task is missing: the merge names the task, the shard and the folder
cp -r s1 noslice
for f in noslice/cmteb__hash-512/1/.cmteb/shard/DemoSTS.vectors/*; do rm "$f"; done
set +e
msg=$("$B" merge --output bad2 s0 noslice 2>&1); rc=$?
set -e
[ $rc = 1 ] && grep -q "DemoSTS: shard 1 of 2 has no vectors for it" <<<"$msg" \
  || { echo "missing slice: $rc $msg"; exit 1; }

# 2. SciFact (real data), predictions too; 2 shards and 3 shards (given out of order)
data="$CMTEB_SHARED/data"
if [ -d "$data/mteb/scifact" ]; then
  common=(--model hash --tasks SciFact --data-dir "$data" --save-predictions --quiet)
  "$B" run "${common[@]}" --output sf --corpus-chunk-size 1000 >/dev/null
  for i in 0 1; do "$B" run "${common[@]}" --output "sf2_$i" --shard "$i/2" --corpus-chunk-size 1000 >/dev/null; done
  "$B" merge --output sf2 --quiet sf2_1 sf2_0 >/dev/null
  same_files sf/cmteb__hash-512/1 sf2/cmteb__hash-512/1
  for i in 0 1 2; do "$B" run "${common[@]}" --output "sf3_$i" --shard "$i/3" --corpus-chunk-size 700 >/dev/null; done
  "$B" run "${common[@]}" --output sf1c --corpus-chunk-size 700 >/dev/null
  "$B" merge --output sf3 --quiet sf3_2 sf3_0/cmteb__hash-512/1 sf3_1 >/dev/null
  same_files sf1c/cmteb__hash-512/1 sf3/cmteb__hash-512/1
  # chunks of 1000 (sf) and of 700 (the shards): the same scores and predictions (only the recorded
  # corpus_chunk_size differs)
  cmp sf/cmteb__hash-512/1/predictions/SciFact.test.trec sf3/cmteb__hash-512/1/predictions/SciFact.test.trec
  /usr/bin/python3 - sf/cmteb__hash-512/1/SciFact.json sf3/cmteb__hash-512/1/SciFact.json <<'PY'
import json, sys
a, b = (json.load(open(p))["scores"] for p in sys.argv[1:])
assert a == b, "SciFact scores differ between chunks of 1000 and shards with chunks of 700"
PY
  # the shards did split the corpus: their slices are disjoint and cover it
  /usr/bin/python3 - sf3_0 sf3_1 sf3_2 <<'PY'
import sys
spans = []
for d in sys.argv[1:]:
    head = open(f"{d}/cmteb__hash-512/1/.cmteb/shard/SciFact.test.hits").read().split("\n")[1].split()
    spans.append((int(head[4]), int(head[5])))
assert spans[0][0] == 0 and spans[0][1] == spans[1][0] and spans[1][1] == spans[2][0] and spans[2][1] == 5183, spans
sizes = [hi - lo for lo, hi in spans]
assert max(sizes) - min(sizes) <= 1 and min(sizes) > 0, spans      # as even as documents go, none empty
print("SciFact slices", spans)
PY
else
  echo "note: $data/mteb/scifact absent, SciFact part skipped"
fi

# 2b. the other task types on real data in 3 shards: STSBenchmark, Banking77 (classification), SICK-R
if [ -d "$data/mteb/stsbenchmark-sts" ] && [ -d "$data/mteb/banking77" ] && [ -d "$data/mteb/sickr-sts" ]; then
  real=(--model hash --tasks STSBenchmark,Banking77Classification,SICK-R --data-dir "$data" --quiet)
  "$B" run "${real[@]}" --output r1 >/dev/null
  for i in 2 0 1; do "$B" run "${real[@]}" --output "r3_$i" --shard "$i/3" >/dev/null; done
  "$B" merge --output r3 --quiet r3_0 r3_1 r3_2 >/dev/null
  same_files r1/cmteb__hash-512/1 r3/cmteb__hash-512/1
else
  echo "note: STSBenchmark, Banking77 or SICK-R absent under $data/mteb, their part skipped"
fi

# 3. errors
set +e
msg=$("$B" merge --output bad s0 2>&1); rc=$?
set -e
[ $rc = 1 ] && grep -q "shard 0 of 2, but 1 shard folders" <<<"$msg" || { echo "missing shard: $rc $msg"; exit 1; }
"$B" run "${demo[@]}" --output x1 --shard 1/2 --no-items >/dev/null
set +e
msg=$("$B" merge --output bad s0 x1 2>&1); rc=$?
set -e
[ $rc = 1 ] && grep -q "ran different" <<<"$msg" || { echo "mixed commands: $rc $msg"; exit 1; }
cp -r s1 cut
h=cut/cmteb__hash-512/1/.cmteb/shard/DemoRetrieval.test.hits
head -n 5 "$h" > "$h.tmp" && mv "$h.tmp" "$h"
set +e
msg=$("$B" merge --output bad s0 cut 2>&1); rc=$?
set -e
[ $rc = 1 ] && grep -q "DemoRetrieval.test.hits:" <<<"$msg" || { echo "truncated hits: $rc $msg"; exit 1; }
for bad in 2/2 1 -1/2 a/b 0/0; do
  set +e; "$B" run --model hash --benchmark demo --output x --shard "$bad" --quiet >/dev/null 2>&1; rc=$?; set -e
  [ $rc = 2 ] || { echo "--shard $bad: exit $rc, expected 2"; exit 1; }
done
echo "shard: all checks passed"
