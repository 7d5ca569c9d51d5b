#!/usr/bin/env bash
# backend_options.sh: encoder options a backend does not honour are errors
# (engine/encoder.c, cm_backend_i.supported in engine/backend.h), not silently
# ignored: --pooling on hash, --device cuda on backends without a CUDA engine; options the backend does
# honour still work (hf --pooling cls), and run-wide hints (--threads,
# --batch-size) are accepted by every backend.
set -uo pipefail
out="$CMTEB_TMP/e2e_backend_options"
rm -rf "$out"; mkdir -p "$out/sts"
pass=0; fail=0
expect() { # expect CODE PATTERN -- command...
  local code=$1 pat=$2; shift 3
  local msg; msg=$("$@" 2>&1 >/dev/null); local rc=$?
  if [ $rc -eq "$code" ] && grep -qE -- "$pat" <<<"$msg"; then pass=$((pass+1));
  else fail=$((fail+1)); echo "FAIL: $* -> rc $rc (want $code), message: $msg (want /$pat/)"; fi
}
printf '{"sentence1": "a man plays a guitar", "sentence2": "a person plays music", "score": 4}\n{"sentence1": "a cat sleeps", "sentence2": "stocks fell today", "score": 0}\n{"sentence1": "it rains", "sentence2": "it is raining", "score": 5}\n' > "$out/sts/test.jsonl"
echo '{"name": "OptSTS", "type": "STS", "data": "sts", "split": "test"}' > "$out/task.json"
run() { "$CMTEB_BIN" run --task-file "$out/task.json" --output "$out/r" --no-cache --quiet "$@"; }

expect 1 "model spec 'hash': --pooling is not supported by the hash backend \(supported by: hf\)" -- run --model hash --pooling cls
expect 1 "model spec 'hash': --max-length is not supported by the hash backend \(supported by: hf\)" -- run --model hash --max-length 16
expect 1 "model spec 'hash': --query-template is not supported by the hash backend \(supported by: hf, openai\)" -- run --model hash --query-template 'q: '
# options are checked before the backend opens anything: no GloVe file needed
expect 1 "--normalize/--no-normalize is not supported by the glove backend \(supported by: hf\)" -- run --model glove:/nonexistent.txt --no-normalize
expect 1 "model spec 'hash': --device cuda is not supported by the hash backend \(supported by: hf\)" -- run --model hash --device cuda
# hf with cuda on a machine without CUDA or a GPU: tests/e2e/gpu_cli.sh
expect 1 "unknown device 'tpu'" -- run --model hash --device tpu
expect 0 '' -- run --model hash --threads 1 --batch-size 8 --device cpu
expect 0 '' -- run --model "hf:$CMTEB_SRC/tests/fixtures/hf/bert-tiny" --pooling cls
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
