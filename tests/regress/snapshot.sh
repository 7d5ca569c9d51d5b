#!/usr/bin/env bash
# snapshot.sh BIN OUT: runs one cmteb binary over every evaluator and every
# engine fixture and writes what its numbers are to OUT/manifest.txt, one
# line per output: the task scores of each result file (evaluation_time and
# the provenance paths removed, keys sorted) and the raw bytes of each
# embedding matrix, each as a SHA-256. Two binaries whose manifests are equal
# gave byte-identical scores and vectors. Used to check refactors:
#   tests/regress/snapshot.sh old/build/cmteb /tmp/a
#   tests/regress/snapshot.sh build/cmteb /tmp/b && diff /tmp/a/manifest.txt /tmp/b/manifest.txt
# Needs ../shared/data for the real-data tasks (skipped without it) and
# /usr/bin/python3 (json only). CMTEB_GLOVE adds the GloVe runs.
set -uo pipefail
B="$(realpath "$1")"; O="$2"
S="$(cd "$(dirname "$0")/../.." && pwd)"
D="$S/../shared/data"
rm -rf "$O"; mkdir -p "$O"
cd "$O"
export OPENBLAS_NUM_THREADS=1
run() { "$B" "$@" --quiet >>"$O/log.txt" 2>&1 || echo "FAILED: $*" >>"$O/failures.txt"; }

# every evaluator type on the demo tasks, per backend
models=(hash hash:64 "hf:$S/tests/fixtures/hf/bert-tiny" "hf:$S/tests/fixtures/hf/mpnet-tiny"
        "hf:$S/tests/fixtures/hf/roberta-tiny" "hf:$S/tests/fixtures/hf/bert-tiny-dense"
        "hf:$S/tests/fixtures/hf/bert-tiny-bf16" "hf:$S/tests/fixtures/dec/llama_tiny"
        "hf:$S/tests/fixtures/dec/mistral_tiny" "hf:$S/tests/fixtures/dec/qwen2_tiny"
        "hf:$S/tests/fixtures/dec/qwen3_tiny" "hf:$S/tests/fixtures/dec/nvembed_tiny")
for i in "${!models[@]}"; do
  run run --model "${models[$i]}" --benchmark demo --output "$O/demo/m$i"
done
# pooling/attention variants and options
run run --model "hf:$S/tests/fixtures/hf/bert-tiny" --pooling cls --no-normalize --benchmark demo --output "$O/demo/bt-cls"
run run --model "hf:$S/tests/fixtures/hf/bert-tiny" --pooling max --max-length 8 --benchmark demo --output "$O/demo/bt-max"
run run --model "hf:$S/tests/fixtures/dec/nvembed_tiny" --pooling mean --attention causal --benchmark demo --output "$O/demo/nv-mean"
run run --model "hf:$S/tests/fixtures/dec/llama_tiny" --pool-instruction --attention bidirectional --benchmark demo --output "$O/demo/ll-bi"
run compare --model "hf:$S/tests/fixtures/hf/bert-tiny" --variant mean:pooling=mean --variant cls:pooling=cls \
    --variant last:pooling=last --benchmark demo --output "$O/compare"

if [ -d "$D/mteb" ]; then
  real=(hash "hf:$S/tests/fixtures/hf/bert-tiny")
  [ -n "${CMTEB_GLOVE:-}" ] && real+=("glove:$CMTEB_GLOVE")
  for i in "${!real[@]}"; do
    run run --model "${real[$i]}" --tasks STSBenchmark,SICK-R,Banking77Classification,AmazonCounterfactualClassification,SciFact \
        --data-dir "$D" --output "$O/real/m$i"
    [ -f "$D/extra/msrp/test.jsonl" ] && {
      sed "s|\"data\": \"[^\"]*\"|\"data\": \"$D/extra/msrp\"|" "$S/tests/fixtures/ranking/msrp_task.json" > "$O/msrp.json"
      run run --model "${real[$i]}" --task-file "$O/msrp.json" --output "$O/real/m$i"; }
    [ -f "$D/extra/twentynewsgroups_mini/test.jsonl" ] && {
      printf '{"name": "NewsgroupsMini", "type": "Clustering", "data": "%s", "split": "test", "main_score": "v_measure", "settings": {"batch_size": 500, "protocol": "v1"}}\n' \
        "$D/extra/twentynewsgroups_mini" > "$O/ng.json"
      run run --model "${real[$i]}" --task-file "$O/ng.json" --output "$O/real/m$i"; }
  done
  OMP_NUM_THREADS=1 run run --model hash --tasks SciFact --data-dir "$D" --output "$O/real/hnsw" --retrieval-index HNSW32 --threads 1
else
  echo "note: $D absent: real-data tasks not in the snapshot" >&2
fi

# embeddings: raw bytes per model and role
mkdir -p "$O/emb"
printf 'A man is playing a guitar.\nhello world\nThe quick brown fox jumps over the lazy dog, again and again.\nnaïve café 中文\n' > "$O/in.txt"
for i in "${!models[@]}"; do
  for role in query document; do
    run embed --model "${models[$i]}" --input "$O/in.txt" --output "$O/emb/m$i-$role.npy" --role "$role" --instruction "Retrieve similar text."
  done
done

/usr/bin/python3 - "$O" > "$O/manifest.txt" <<'PY'
import hashlib, json, os, sys
root = sys.argv[1]
out = []
for dp, dn, fn in os.walk(root):
    dn.sort()
    for f in sorted(fn):
        p = os.path.join(dp, f); rel = os.path.relpath(p, root)
        if f.endswith(".npy"):
            out.append((rel, hashlib.sha256(open(p, "rb").read()).hexdigest()))
        elif f.endswith(".json") and "/comparisons/" not in p and f != "model_meta.json" and not f.endswith("items.json") and rel.count("/") >= 2:
            try: d = json.load(open(p))
            except Exception as e: out.append((rel, "unreadable " + str(e))); continue
            if "scores" not in d: continue
            s = json.dumps(d["scores"], sort_keys=True)
            out.append((rel, hashlib.sha256(s.encode()).hexdigest()))
        elif f.endswith(".items.json"):
            d = json.load(open(p))
            out.append((rel, hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()))
for r, h in sorted(out): print(r, h)
PY
n=$(wc -l < "$O/manifest.txt")
echo "snapshot: $n outputs in $O/manifest.txt$( [ -f "$O/failures.txt" ] && echo "; $(wc -l < "$O/failures.txt") command(s) failed: see $O/failures.txt")"
