#!/usr/bin/env bash
# pooler_evidence.sh: issue #17's evidence run (bench/RESULTS.md, "Trained pooling heads"): trained pooling heads
# on a tiny backbone pretrained on the shared data (tests/reference/pretrain_tiny.py), each against the backbone's
# own poolings (cmteb compare, one run) and against the same head untrained (--epochs 0, same seed; paired
# bootstrap with cmteb report --compare over the two result folders), on SciFact and STSBenchmark test.
#
#   bench/pooler_evidence.sh BACKBONE OUT [HEAD:ATTENTION ...]
#     BACKBONE  the pretrained folder (/usr/bin/python3 tests/reference/pretrain_tiny.py --data D --out BACKBONE)
#     OUT       a work folder (heads, results, reports); default pairs: latent, mean-linear, last-linear x
#               bidirectional, latent and last-linear causal
# Environment: STAGE2, SKIP_STAGE1 (see the end), CMTEB (default build/cmteb), DATA (default ../shared/data), EPOCHS (1), LR (1e-3), NEG (hard
# negatives per example, 0: in-batch negatives only, which skips mining's pass over the SciFact corpus), NICE (10).
# Training data: SciFact train qrels (beir:, the corpus as the document pool) and STS Benchmark train pairs
# scored >= 4 as jsonl (query = sentence1, positive = sentence2), written to OUT/sts_train_pairs.jsonl.
set -euo pipefail
bb=${1:?usage: pooler_evidence.sh BACKBONE OUT [HEAD:ATTENTION ...]}
out=${2:?usage: pooler_evidence.sh BACKBONE OUT [HEAD:ATTENTION ...]}
shift 2
B=${CMTEB:-build/cmteb}
D=${DATA:-../shared/data}
EPOCHS=${EPOCHS:-1}
NEG=${NEG:-0}
LR=${LR:-1e-3}
N="nice -n ${NICE:-10}"
pairs=("$@")
[ -z "${SKIP_STAGE1:-}" ] || pairs=(none)   # SKIP_STAGE1=1 STAGE2=...: only the second stage, stage 1 done
[ ${#pairs[@]} -gt 0 ] || pairs=(latent:bidirectional mean-linear:bidirectional last-linear:bidirectional
                                 last-linear:causal latent:causal)
mkdir -p "$out"
sts="$out/sts_train_pairs.jsonl"
/usr/bin/python3 - "$D/mteb/stsbenchmark-sts/train.jsonl.gz" "$sts" <<'PY'
import gzip, json, sys
with gzip.open(sys.argv[1], "rt", encoding="utf-8") as f, open(sys.argv[2], "w", encoding="utf-8") as g:
    for line in f:
        o = json.loads(line)
        if o["split"] == "train" and o["score"] >= 4.0:
            g.write(json.dumps({"query": o["sentence1"], "positive": o["sentence2"]}, ensure_ascii=False) + "\n")
PY
tasks=SciFact,STSBenchmark
# the backbone's own scores are the compare runs' mean/last/cls variants (bidirectional: the folder's settings)
for p in "${pairs[@]}"; do
  [ "$p" != none ] || continue
  head=${p%%:*} att=${p##*:} name=${p%%:*}-${p##*:}
  for ep in "$EPOCHS" 0; do
    $N "$B" train-pooler --model "hf:$bb" --head "$head" --attention "$att" --train "beir:$D/mteb/scifact" \
      --train "jsonl:$sts" --epochs "$ep" --lr "$LR" --warmup 10 --batch-size 32 --negatives "$NEG" --seed 42 \
      --output "$out/head-$name-e$ep" --quiet
  done
  # trained head beside the backbone's own poolings (same attention), one run, paired bootstrap vs the head;
  # no CLS under causal attention: the first token then sees only itself (one vector for every text)
  cls=(--variant cls:pooling=cls)
  [ "$att" != causal ] || cls=()
  $N "$B" compare --model "hf:$out/head-$name-e$EPOCHS" --model-name "tiny/$name" --variant trained:pooling=head \
    --variant mean:pooling=mean --variant last:pooling=last "${cls[@]}" --tasks $tasks \
    --data-dir "$D" --output "$out/cmp-$name" --quiet
  # the same head untrained (--epochs 0, seed 42)
  $N "$B" run --model "hf:$out/head-$name-e0" --model-name "tiny/$name-untrained" --tasks $tasks --data-dir "$D" \
    --output "$out/res-$name-untrained" --quiet
  # trained vs untrained: paired bootstrap over the per-item files of the two folders
  "$B" report --compare "$out/res-$name-untrained" "$out/cmp-$name/tiny__$name-trained" \
    > "$out/report-$name.md"
done

# Stage 2 (issue #17's second stage), when STAGE2=HEAD:ATTENTION names a pair trained above: from that head
# (--init), non-retrieval pairs built from training splits with given negatives and in-batch negatives off:
# Banking77 train (positive: another text of the intent; negatives: three texts of other intents), Amazon
# counterfactual en train (same label / the other label) and STS Benchmark train (the pair scored >= 4; negatives:
# three random other train sentences); evaluated against stage 1 (paired bootstrap).
if [ -n "${STAGE2:-}" ]; then
  head=${STAGE2%%:*} att=${STAGE2##*:} name=${STAGE2%%:*}-${STAGE2##*:}
  s2="$out/stage2_pairs.jsonl"
  /usr/bin/python3 - "$D" "$s2" <<'PY'
import gzip, json, random, sys
d, out = sys.argv[1], sys.argv[2]
rnd = random.Random(42)
def rows(p):
    op = gzip.open if p.endswith(".gz") else open
    with op(p, "rt", encoding="utf-8") as f:
        return [json.loads(x) for x in f if x.strip()]
ex = []
for path, n in ((d + "/mteb/banking77/train.jsonl", 800), (d + "/mteb/amazon_counterfactual/en/train.jsonl", 400)):
    r = rows(path)
    by = {}
    for o in r:
        by.setdefault(o["label"], []).append(o["text"])
    for o in rnd.sample(r, n):
        same = [t for t in by[o["label"]] if t != o["text"]]
        other = [t for t in r if t["label"] != o["label"]]
        if same:
            ex.append({"query": o["text"], "positive": rnd.choice(same),
                       "negatives": [t["text"] for t in rnd.sample(other, 3)]})
sts = [o for o in rows(d + "/mteb/stsbenchmark-sts/train.jsonl.gz") if o["split"] == "train"]
sents = [o["sentence1"] for o in sts] + [o["sentence2"] for o in sts]
for o in rnd.sample([o for o in sts if o["score"] >= 4.0], 600):
    negs = [s for s in rnd.sample(sents, 6) if s not in (o["sentence1"], o["sentence2"])][:3]
    ex.append({"query": o["sentence1"], "positive": o["sentence2"], "negatives": negs})
rnd.shuffle(ex)
with open(out, "w", encoding="utf-8") as f:
    for e in ex:
        f.write(json.dumps(e, ensure_ascii=False) + "\n")
PY
  $N "$B" train-pooler --model "hf:$bb" --head "$head" --attention "$att" --init "$out/head-$name-e$EPOCHS" \
    --train "jsonl:$s2" --no-in-batch --negatives 3 --epochs 1 --lr "$LR" --batch-size 32 --seed 42 \
    --output "$out/head-$name-stage2" --quiet
  $N "$B" run --model "hf:$out/head-$name-stage2" --model-name "tiny/$name-stage2" --tasks $tasks --data-dir "$D" \
    --output "$out/res-$name-stage2" --quiet
  "$B" report --compare "$out/cmp-$name/tiny__$name-trained" "$out/res-$name-stage2" > "$out/report-$name-stage2.md"
fi
