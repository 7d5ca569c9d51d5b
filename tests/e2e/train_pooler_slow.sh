#!/usr/bin/env bash
# train_pooler_slow.sh: `cmteb train-pooler` end to end on the random-weight fixture backbone
# (tests/fixtures/hf/bert-tiny) with SciFact's train qrels from ../shared/data (skipped when absent):
# mean-linear and latent heads train and their loss decreases; the output folder loads with
# --model hf:DIR (run and compare, the head as default pooling); an interrupted run (SIGINT, and a run
# stopped by --max-steps) resumes from its checkpoint and ends with the same head as an uninterrupted
# run, byte for byte; the token-state cache is reused; bad input gets a clear error.
set -uo pipefail
data="$CMTEB_SHARED/data"
scifact="$data/mteb/scifact"
[ -f "$scifact/qrels/train.tsv" ] || { echo "SKIP: $scifact/qrels/train.tsv absent"; exit 77; }
model="$CMTEB_SRC/tests/fixtures/hf/bert-tiny"
out="$CMTEB_TMP/e2e_train_pooler"
rm -rf "$out"; mkdir -p "$out"
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
expect() { # expect CODE PATTERN -- command...
  local code=$1 pat=$2; shift 3
  local msg; msg=$("$@" 2>&1 >/dev/null); local rc=$?
  if [ $rc -eq "$code" ] && grep -qE -- "$pat" <<<"$msg"; then ok;
  else bad "$* -> rc $rc (want $code), message: $msg (want /$pat/)"; fi
}
T0=(--model "hf:$model" --train "beir:$scifact" --limit 64 --batch-size 16 --seed 7)
T=("${T0[@]}" --quiet)
# decreases DIR: the last epoch's mean loss is below the first's (train.json)
decreases() {
  /usr/bin/python3 - "$1/train.json" <<'PY' && ok || bad "$1: loss did not decrease: $(cat "$1/train.json")"
import json, sys
t = json.load(open(sys.argv[1]))
sys.exit(0 if t["steps"] > 0 and t["loss_last_epoch"] < t["loss_first_epoch"] else 1)
PY
}

# 1. mean-linear: trains, loss decreases, writes the model folder
"$CMTEB_BIN" train-pooler "${T[@]}" --head mean-linear --epochs 6 --lr 3e-3 --output "$out/ml" > "$out/ml.txt" 2>&1 \
  || { bad "train mean-linear failed"; cat "$out/ml.txt"; }
decreases "$out/ml"
for f in config.json modules.json 1_Head/config.json 1_Head/model.safetensors cache/states.bin train_log.tsv; do
  [ -s "$out/ml/$f" ] && ok || bad "missing $out/ml/$f"
done
[ "$(wc -l < "$out/ml/train_log.tsv")" -eq 24 ] && ok || bad "train_log.tsv: want 24 steps (64/16 x 6)"

# 2. latent head (NV-Embed's latent attention, small): trains, loss decreases
"$CMTEB_BIN" train-pooler "${T[@]}" --head latent --latents 16 --heads 2 --epochs 4 --lr 3e-3 --output "$out/lat" \
  > "$out/lat.txt" 2>&1 || { bad "train latent failed"; cat "$out/lat.txt"; }
decreases "$out/lat"

# 3. the folder loads and evaluates: the head is the default pooling; --pooling mean pools the backbone instead
for p in head mean; do
  "$CMTEB_BIN" run --model "hf:$out/lat" --pooling $p --tasks STSBenchmark --data-dir "$data" --output "$out/run-$p" \
    --quiet > "$out/run-$p.txt" 2>&1 || { bad "run --pooling $p on the trained folder failed"; cat "$out/run-$p.txt"; }
done
sc() { /usr/bin/python3 -c 'import json,sys,glob; f=glob.glob(sys.argv[1]+"/**/STSBenchmark.json",recursive=True)[0]; print(json.load(open(f))["scores"]["test"][0]["main_score"])' "$1"; }
h=$(sc "$out/run-head"); m=$(sc "$out/run-mean")
[ -n "$h" ] && [ -n "$m" ] && [ "$h" != "$m" ] && ok || bad "head and mean scores should both exist and differ: '$h' '$m'"
"$CMTEB_BIN" run --model "hf:$out/lat" --tasks STSBenchmark --data-dir "$data" --output "$out/run-default" --quiet \
  > /dev/null 2>&1 && [ "$(sc "$out/run-default")" = "$h" ] && ok || bad "the default pooling of the folder is not the head"
"$CMTEB_BIN" compare --model "hf:$out/ml" --variant head:pooling=head --variant mean:pooling=mean \
  --tasks STSBenchmark --data-dir "$data" --output "$out/cmp" --quiet > "$out/cmp.txt" 2>&1 \
  || { bad "compare on the trained folder failed"; cat "$out/cmp.txt"; }
grep -qE '^\| mean \| ' "$out"/cmp/comparisons/*/comparison.md && ok || bad "comparison.md lacks the mean variant"

# 4. resume: stopped after 5 of 24 steps (--max-steps), then the same command: resumes at step 5 and ends
#    with the uninterrupted run's head, byte for byte; the token states come from the cache
cp -r "$out/ml/cache" "$out/ml-resume-cache"
mkdir -p "$out/ml2" && cp -r "$out/ml-resume-cache" "$out/ml2/cache"
"$CMTEB_BIN" train-pooler "${T[@]}" --head mean-linear --epochs 6 --lr 3e-3 --output "$out/ml2" --max-steps 5 \
  --checkpoint-every 100 > /dev/null 2>&1 || bad "the --max-steps 5 run failed"
[ "$(wc -l < "$out/ml2/train_log.tsv")" -eq 5 ] && ok || bad "want 5 logged steps before the resume"
"$CMTEB_BIN" train-pooler "${T0[@]}" --head mean-linear --epochs 6 --lr 3e-3 --output "$out/ml2" \
  > "$out/ml2.txt" 2>&1 || { bad "the resumed run failed"; cat "$out/ml2.txt"; }
grep -q "resuming from .* at step 5 of 24" "$out/ml2.txt" && ok || bad "no 'resuming at step 5' in $(cat "$out/ml2.txt")"
grep -q "token states of .* texts read from" "$out/ml2.txt" && ok || bad "the token-state cache was not reused"
cmp -s "$out/ml/1_Head/model.safetensors" "$out/ml2/1_Head/model.safetensors" && ok \
  || bad "the resumed head differs from the uninterrupted one"
[ "$(wc -l < "$out/ml2/train_log.tsv")" -eq 24 ] && ok || bad "want 24 logged steps after the resume"

# 5. interrupted by SIGINT: exit 130 with a checkpoint, the same command resumes from it
mkdir -p "$out/int" && cp -r "$out/ml-resume-cache" "$out/int/cache"
"$CMTEB_BIN" train-pooler "${T[@]}" --head self-attention --epochs 3000 --checkpoint-every 100000 \
  --output "$out/int" > "$out/int1.txt" 2>&1 &
pid=$!
for _ in $(seq 1 200); do [ -s "$out/int/train_log.tsv" ] && [ "$(wc -l < "$out/int/train_log.tsv")" -ge 3 ] && break; sleep 0.1; done
kill -INT $pid; wait $pid; rc=$?
[ $rc -eq 130 ] && ok || bad "SIGINT: exit $rc, want 130: $(cat "$out/int1.txt")"
[ -s "$out/int/checkpoint/optim.bin" ] && ok || bad "no checkpoint after SIGINT"
done_steps=$(wc -l < "$out/int/train_log.tsv")
"$CMTEB_BIN" train-pooler "${T0[@]}" --head self-attention --epochs 3000 --max-steps $((done_steps + 2)) \
  --output "$out/int" > "$out/int2.txt" 2>&1 || { bad "resume after SIGINT failed"; cat "$out/int2.txt"; }
grep -q "resuming from .* at step $done_steps of" "$out/int2.txt" && ok || bad "no resume at step $done_steps: $(cat "$out/int2.txt")"

# 5b. --epochs 0: the untrained baseline (the seed's initialisation), reported as such, not as a NaN loss
"$CMTEB_BIN" train-pooler "${T0[@]}" --head mean-linear --epochs 0 --output "$out/ml0" > "$out/ml0.txt" 2>&1 \
  || { bad "--epochs 0 failed"; cat "$out/ml0.txt"; }
grep -q "untrained mean-linear head (the seed-7 initialisation" "$out/ml0.txt" && ! grep -qi nan "$out/ml0.txt" && ok \
  || bad "--epochs 0 output: $(cat "$out/ml0.txt")"
[ -s "$out/ml0/1_Head/model.safetensors" ] && ! cmp -s "$out/ml0/1_Head/model.safetensors" \
  "$out/ml/1_Head/model.safetensors" && ok || bad "--epochs 0 should write the initialised (not the trained) head"
[ ! -e "$out/ml0/cache/states.bin" ] && ok || bad "--epochs 0 computed token states it does not use"

# 5b'. the finished run again: resumes at its last step, trains nothing and says so (no NaN loss)
"$CMTEB_BIN" train-pooler "${T0[@]}" --head mean-linear --epochs 6 --lr 3e-3 --output "$out/ml2" \
  > "$out/ml2b.txt" 2>&1 && grep -q "24 steps, all done before this run" "$out/ml2b.txt" \
  && ! grep -qi nan "$out/ml2b.txt" && ok \
  || bad "rerun of a finished run: $(cat "$out/ml2b.txt")"
# ... and its train.json keeps the epoch means of all its runs (from the log), equal to the uninterrupted run's
/usr/bin/python3 - "$out/ml/train.json" "$out/ml2/train.json" <<'PY' && ok || bad "train.json after resume and rerun: $(cat "$out/ml2/train.json")"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
keys = ("loss_first_epoch", "loss_last_epoch")
sys.exit(0 if all(isinstance(b[k], float) and b[k] == a[k] for k in keys) and b["steps"] == a["steps"] else 1)
PY

# 5c. --init: a second stage starts from a trained head (--epochs 0 copies it byte for byte; training moves it)
"$CMTEB_BIN" train-pooler "${T[@]}" --head mean-linear --init "$out/ml" --epochs 0 --output "$out/st0" \
  > /dev/null 2>&1 && cmp -s "$out/ml/1_Head/model.safetensors" "$out/st0/1_Head/model.safetensors" && ok \
  || bad "--init with --epochs 0 should copy the head"
"$CMTEB_BIN" train-pooler "${T[@]}" --head mean-linear --init "$out/ml" --no-in-batch --negatives 2 --epochs 1 \
  --output "$out/st2" > "$out/st2.txt" 2>&1 || { bad "stage 2 (--init, --no-in-batch) failed"; cat "$out/st2.txt"; }
! cmp -s "$out/ml/1_Head/model.safetensors" "$out/st2/1_Head/model.safetensors" \
  && grep -q '"init":' "$out/st2/train.json" && ok || bad "stage 2 did not train from the --init head"
expect 1 "a mean-linear head, but --head is latent" -- "$CMTEB_BIN" train-pooler "${T[@]}" --head latent \
  --init "$out/ml" --output "$out/bad"

# 5d. jsonl with enough given negatives: no mining pass over the documents; too few given: mining fills them up
printf '{"query": "q%d", "positive": "p%d", "negatives": ["n%d a", "n%d b"]}\n' 1 1 1 1 2 2 2 2 3 3 3 3 4 4 4 4 \
  > "$out/given.jsonl"
"$CMTEB_BIN" train-pooler --model "hf:$model" --head mean-linear --train "jsonl:$out/given.jsonl" --negatives 2 \
  --batch-size 2 --output "$out/given2" > "$out/given2.txt" 2>&1 && ! grep -q "mining hard negatives" \
  "$out/given2.txt" && ok || bad "given negatives: $(cat "$out/given2.txt")"
"$CMTEB_BIN" train-pooler --model "hf:$model" --head mean-linear --train "jsonl:$out/given.jsonl" --negatives 3 \
  --margin -2 --batch-size 2 --output "$out/given3" > "$out/given3.txt" 2>&1 \
  && grep -q "mining hard negatives for 4 pairs among 12 documents" "$out/given3.txt" && ok \
  || bad "mining after given negatives: $(cat "$out/given3.txt")"

# 6. bad input
expect 1 "refusing split 'test'" -- "$CMTEB_BIN" train-pooler --model "hf:$model" --head latent \
  --train "beir:$scifact#test" --output "$out/bad"
expect 2 "unknown head 'pool'" -- "$CMTEB_BIN" train-pooler --model "hf:$model" --head pool \
  --train "beir:$scifact" --output "$out/bad"
expect 1 "expected beir:DIR" -- "$CMTEB_BIN" train-pooler --model "hf:$model" --head latent --train "$scifact" \
  --output "$out/bad"
printf '{"query": "q", "positive": 3}\n' > "$out/bad.jsonl"
expect 1 "bad.jsonl:1.*positive" -- "$CMTEB_BIN" train-pooler --model "hf:$model" --head latent \
  --train "jsonl:$out/bad.jsonl" --output "$out/bad"
expect 1 "a different .* head|is of a mean-linear head" -- "$CMTEB_BIN" train-pooler "${T[@]}" --head last-linear \
  --output "$out/ml" --epochs 1
mkdir -p "$out/broken" && printf '{"cmteb_pooler": {"backbone": "/nonexistent"}}' > "$out/broken/config.json"
expect 1 "backbone folder /nonexistent" -- "$CMTEB_BIN" run --model "hf:$out/broken" --tasks STSBenchmark \
  --data-dir "$data" --output "$out/bad"
expect 1 "pooling 'head' needs" -- "$CMTEB_BIN" run --model "hf:$model" --pooling head --tasks STSBenchmark \
  --data-dir "$data" --output "$out/bad"

echo "train_pooler: $pass passed, $fail failed"
[ $fail -eq 0 ]
