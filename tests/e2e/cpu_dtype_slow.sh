#!/usr/bin/env bash
# cpu_dtype_slow.sh: `--dtype bf16` and `--dtype int8` of the CPU engine end to end, shown with `cmteb
# compare` (issue #18): a random-weight BERT (4 layers x 128, the real bert-base-uncased vocabulary, written
# by tests/reference/ref_bert_models.py, residual branches damped so that it scores well above chance) compared
# as three variants fp32 / bf16 / int8 on STSBenchmark and
# SciFact test (../shared/data); each low-precision score within 0.3 points (0.003) of fp32, the variants
# computed in their own dtype (the results' provenance says "dtype"), the comparison written with its
# paired-bootstrap columns, and the embedding cache kept apart per dtype (a rerun with the results removed
# scores the same from the cache). Skips without the shared data.
set -uo pipefail
D="${CMTEB_SHARED:-}/data/mteb"
[ -d "$D/stsbenchmark-sts" ] && [ -d "$D/scifact" ] || { echo "SKIP: no shared data (STSBenchmark, SciFact) under $D"; exit 77; }
out="$CMTEB_TMP/e2e_cpu_dtype"
rm -rf "$out"; mkdir -p "$out"
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
PY=/usr/bin/python3
# the model: 4 layers x 128, vocabulary 30522 (bert-base-uncased's tokenizer), mean pooling
PYTHONPATH="$CMTEB_SRC/tests/reference" $PY - "$out/m" "$CMTEB_SRC" <<'PY' || { echo "FAIL: model"; exit 1; }
import gzip, json, os, sys
import numpy as np
import ref_bert_models as R
d, src = sys.argv[1], sys.argv[2]
os.makedirs(os.path.join(d, "1_Pooling"), exist_ok=True)
cfg = {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": 30522, "hidden_size": 128,
       "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 512, "max_position_embeddings": 512,
       "type_vocab_size": 2, "hidden_act": "gelu", "layer_norm_eps": 1e-12, "pad_token_id": 0,
       "_name_or_path": "cmteb-fixtures/bert-dtype"}
json.dump(cfg, open(os.path.join(d, "config.json"), "w"))
W = {k: v.astype(np.float32) for k, v in R.make_weights(cfg, "bert", np.random.default_rng(3), "").items()}
# residual branches and positions damped: each token's identity survives the layers (a bag of random word
# vectors with some mixing), so lexical overlap scores: nDCG@10 ~0.19 on SciFact, Spearman ~0.47 on STSBenchmark
# in fp32, well above chance; undamped random layers score ~0.002 on SciFact, which would prove nothing
for k in list(W):
    if k.endswith(("attention.output.dense.weight", "attention.output.dense.bias", ".output.dense.weight",
                   ".output.dense.bias")) or k == "embeddings.position_embeddings.weight":
        W[k] = W[k] * np.float32(0.1)
R.write_safetensors(os.path.join(d, "model.safetensors"), W, "F32")
tok = os.path.join(src, "tests/fixtures/hf/bert-uncased-tok")
open(os.path.join(d, "vocab.txt"), "w").write(gzip.open(os.path.join(tok, "vocab.txt.gz"), "rt").read())
open(os.path.join(d, "tokenizer.json"), "wb").write(gzip.open(os.path.join(tok, "tokenizer.json.gz"), "rb").read())
json.dump({"pooling_mode_mean_tokens": True}, open(os.path.join(d, "1_Pooling", "config.json"), "w"))
json.dump({"max_seq_length": 256}, open(os.path.join(d, "sentence_bert_config.json"), "w"))
PY
V=(--variant fp32:dtype=fp32 --variant bf16:dtype=bf16 --variant int8:dtype=int8)
"$CMTEB_BIN" compare --model "hf:$out/m" "${V[@]}" --tasks STSBenchmark,SciFact --data-dir "$CMTEB_SHARED/data" \
  --output "$out/r" --threads 2 > "$out/log.txt" 2>&1 || { bad "compare failed"; cat "$out/log.txt"; }
# three models (one per dtype), not one shared forward pass
grep -qE '^compare: 3 variants of .* in 3 forward-pass groups \(3 model loads\)' "$out/log.txt" && ok \
  || bad "compare: want 3 groups / 3 loads: $(grep -m1 '^compare:' "$out/log.txt")"
grep -q 'Linear layers in int8 on the CPU' "$out/log.txt" && ok || bad "no int8 load line in the log"
grep -q 'Linear layers in bf16 on the CPU' "$out/log.txt" && ok || bad "no bf16 load line in the log"
cmp="$out/r/comparisons/cmteb-fixtures__bert-dtype/comparison.json"
[ -s "$cmp" ] && ok || bad "missing $cmp"
for v in fp32 bf16 int8; do
  for t in STSBenchmark SciFact; do
    [ -s "$out/r/cmteb-fixtures__bert-dtype-$v/no_revision_available/$t.json" ] && ok || bad "$v: no $t result"
  done
done
# scores: bf16 and int8 within 0.003 of fp32, and the low-precision results say their dtype
$PY - "$out/r" > "$out/scores.txt" <<'PY' || bad "scores: $(cat "$out/scores.txt")"
import json, sys
r = sys.argv[1]
def res(v, t):
    return json.load(open(f"{r}/cmteb-fixtures__bert-dtype-{v}/no_revision_available/{t}.json"))
bad = 0
for t in ("STSBenchmark", "SciFact"):
    f = res("fp32", t)["scores"]["test"][0]["main_score"]
    if f < (0.1 if t == "SciFact" else 0.3):
        print(f"{t} fp32: {f:.5f}: the model scores near chance, the comparison would prove nothing"); bad += 1
    for v in ("bf16", "int8"):
        j = res(v, t)
        s = j["scores"]["test"][0]["main_score"]
        dt = j.get("cmteb", {}).get("dtype")
        print(f"{t} {v}: {s:.5f} vs fp32 {f:.5f} (diff {100 * (s - f):+.3f} points), dtype {dt}")
        if abs(s - f) > 0.003 or dt != v or s == f:
            bad += 1
    if res("fp32", t).get("cmteb", {}).get("dtype") is not None:
        print(f"{t} fp32: provenance has a dtype (want none for the default)"); bad += 1
sys.exit(1 if bad else 0)
PY
[ $? -eq 0 ] && ok
cat "$out/scores.txt"
# the comparison tested the differences (paired bootstrap over the per-item values)
grep -q '"tested":	true' "$cmp" && ok || bad "comparison.json: no tested difference"
cp "$(dirname "$cmp")/comparison.md" "$out/comparison-first.md"
# caches apart per dtype: results removed, a rerun takes every vector from the caches and scores the same
for v in fp32 bf16 int8; do mv "$out/r/cmteb-fixtures__bert-dtype-$v" "$out/r/old-$v"; done
"$CMTEB_BIN" compare --model "hf:$out/m" "${V[@]}" --tasks STSBenchmark --data-dir "$CMTEB_SHARED/data" \
  --output "$out/r" --threads 2 > "$out/log2.txt" 2>&1 || bad "rerun failed"
grep -q '^Forward passes: 0 texts' "$out/log2.txt" && ok || bad "rerun ran the backbone: $(grep '^Forward' "$out/log2.txt")"
for v in fp32 bf16 int8; do
  a=$(grep '"main_score"' "$out/r/old-$v/no_revision_available/STSBenchmark.json")
  b=$(grep '"main_score"' "$out/r/cmteb-fixtures__bert-dtype-$v/no_revision_available/STSBenchmark.json")
  [ -n "$a" ] && [ "$a" = "$b" ] && ok || bad "$v: cached rerun scores differ ($a vs $b)"
done
echo "cpu_dtype: $pass passed, $fail failed"
[ $fail -eq 0 ]
