#!/usr/bin/env bash
# gpu_cli.sh: the device options of the CLI on a machine without a GPU (or a
# build without CUDA): `--device cuda` on hf is refused with the reason (built
# without CUDA / no GPU visible), on hash as a backend without a CUDA engine;
# malformed device specs and dtypes are usage errors naming the forms;
# `--device auto` (and the default) runs hf on the CPU with the same vectors
# as `--device cpu`; `--dtype fp16` on the CPU and int8 on cuda are refused, `--dtype fp32`
# accepted; `cmteb info` says what it sees ("built without CUDA" or "none
# visible") and the memory an hf model's weights need on a GPU.
# On a machine where a GPU is visible this test skips (the gpu-labelled tests
# cover it there).
set -uo pipefail
out="$CMTEB_TMP/e2e_gpu_cli"
rm -rf "$out"; mkdir -p "$out/sts"
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
expect() { # expect CODE PATTERN -- command...
  local code=$1 pat=$2; shift 3
  local msg; msg=$("$@" 2>&1 >/dev/null); local rc=$?
  if [ $rc -eq "$code" ] && grep -qE -- "$pat" <<<"$msg"; then ok;
  else bad "$* -> rc $rc (want $code), message: $msg (want /$pat/)"; fi
}
model="hf:$CMTEB_SRC/tests/fixtures/hf/bert-tiny"

info=$("$CMTEB_BIN" info 2>&1); rc=$?
[ $rc -eq 0 ] && ok || bad "cmteb info -> rc $rc: $info"
if grep -qE '^gpu cuda:' <<<"$info"; then
  echo "SKIP: a GPU is visible here ($(grep -m1 '^gpu cuda:' <<<"$info")); the gpu-labelled tests cover it"
  exit 77
fi
if grep -qE '^gpus +built without CUDA$' <<<"$info"; then built=0; why='built without CUDA'
elif grep -qE '^gpus +none visible$' <<<"$info"; then built=1; why='no GPU visible'
else bad "cmteb info: no 'gpus' line saying built without CUDA / none visible: $info"; built=0; why='?'; fi
json=$("$CMTEB_BIN" info --json)
grep -q '"devices":[[:space:]]*\[\]' <<<"$json" && ok || bad "info --json: no empty devices array: $json"

# explicit cuda: the reason, exit 1
expect 1 "model spec 'hf:.*': --device cuda: .*$why.*use --device cpu" -- "$CMTEB_BIN" embed --model "$model" \
  --input /dev/null --output "$out/x.npy" --device cuda
expect 1 "$why" -- "$CMTEB_BIN" embed --model "$model" --input /dev/null --output "$out/x.npy" --device cuda:1
expect 1 "$why" -- "$CMTEB_BIN" info --model "$model" --device cuda:0,1
expect 1 "--device cuda is not supported by the hash backend \(supported by: hf\)" -- \
  "$CMTEB_BIN" embed --model hash --input /dev/null --output "$out/x.npy" --device cuda
# malformed specs and dtypes name the forms
expect 1 "unknown device 'gpu' \(expected cpu, cuda, cuda:N, cuda:N,M,... or auto\)" -- \
  "$CMTEB_BIN" embed --model "$model" --input /dev/null --output "$out/x.npy" --device gpu
expect 1 "device 'cuda:0,0': cuda:0 listed twice" -- "$CMTEB_BIN" info --model "$model" --device cuda:0,0
expect 1 "device 'cuda:x': expected a GPU ordinal" -- "$CMTEB_BIN" info --model "$model" --device cuda:x
expect 1 "unknown dtype 'int4' \(expected fp32, bf16, int8 on the CPU or fp32, bf16, fp16 on a GPU\)" -- \
  "$CMTEB_BIN" info --model "$model" --dtype int4
# dtypes on the CPU: fp32, bf16, int8 (fp16 is a GPU dtype); other backends compute in fp32 only
expect 1 "--dtype fp16: the CPU engine computes in fp32, bf16 or int8 \(fp16 is a GPU dtype" -- \
  "$CMTEB_BIN" embed --model "$model" --input /dev/null --output "$out/x.npy" --device cpu --dtype fp16
expect 1 "--dtype bf16 is not supported by the hash backend \(supported by: hf\)" -- \
  "$CMTEB_BIN" embed --model hash --input /dev/null --output "$out/x.npy" --dtype bf16
expect 1 "--dtype int8 is not supported by the glove backend \(supported by: hf\)" -- \
  "$CMTEB_BIN" embed --model glove:/nonexistent --input /dev/null --output "$out/x.npy" --dtype int8
expect 1 "--dtype int8: the CUDA engine computes in bf16, fp16 or fp32 \(int8 is a CPU dtype" -- \
  "$CMTEB_BIN" embed --model "$model" --input /dev/null --output "$out/x.npy" --device cuda --dtype int8

# auto, the default and cpu give the same vectors (byte-identical files); fp32 is accepted on the CPU
printf 'a man plays a guitar\nthe cat sleeps on the mat\nstocks fell sharply today\n' > "$out/texts.txt"
for d in auto default cpu fp32; do
  args=(--device "$d"); [ $d = default ] && args=(); [ $d = fp32 ] && args=(--dtype fp32)
  msg=$("$CMTEB_BIN" embed --model "$model" --input "$out/texts.txt" --output "$out/$d.npy" "${args[@]}" 2>&1)
  [ $? -eq 0 ] && ok || bad "embed ${args[*]}: $msg"
done
for d in auto default fp32; do
  cmp -s "$out/cpu.npy" "$out/$d.npy" && ok || bad "embed --device $d: vectors differ from --device cpu"
done
# the hf engine says where it runs; auto on this machine is the CPU (no ", on cuda" in the load line)
msg=$("$CMTEB_BIN" embed --model "$model" --input "$out/texts.txt" --output "$out/l.npy" 2>&1)
grep -q 'hf: .*threads' <<<"$msg" && ! grep -q ', on cuda' <<<"$msg" && ok || bad "auto load line: $msg"
# a run with the default device works and keys the cache like --device cpu (fp32 shares the CPU's fingerprint)
printf '{"sentence1": "a man plays a guitar", "sentence2": "a person plays music", "score": 4}\n{"sentence1": "a cat sleeps", "sentence2": "stocks fell today", "score": 0}\n{"sentence1": "it rains", "sentence2": "it is raining", "score": 5}\n' > "$out/sts/test.jsonl"
echo '{"name": "GpuCliSTS", "type": "STS", "data": "sts", "split": "test"}' > "$out/task.json"
msg=$("$CMTEB_BIN" run --model "$model" --task-file "$out/task.json" --output "$out/r" --quiet --device auto 2>&1)
[ $? -eq 0 ] && ok || bad "run --device auto: $msg"
fa=$("$CMTEB_BIN" info --model "$model" | awk '$1 == "fingerprint" {print $2}')
fc=$("$CMTEB_BIN" info --model "$model" --device cpu --dtype fp32 | awk '$1 == "fingerprint" {print $2}')
[ -n "$fa" ] && [ "$fa" = "$fc" ] && ok || bad "fingerprint auto '$fa' vs cpu fp32 '$fc'"

# info on an hf model: device and the memory its weights need on a GPU
minfo=$("$CMTEB_BIN" info --model "$model")
grep -qE '^device +cpu \(fp32\)$' <<<"$minfo" && ok || bad "info: no 'device cpu (fp32)' line: $minfo"
grep -qE '^gpu_weights +bf16/fp16 [0-9.]+ MiB, fp32 [0-9.]+ MiB \(from the checkpoint' <<<"$minfo" && ok \
  || bad "info: no gpu_weights line: $minfo"
# bf16 bytes = 2 x the float elements of the checkpoint (the fixture is F32: half its tensor bytes)
tb=$(grep -oE '^weights_file +F32: [0-9]+ tensors, [0-9]+ bytes' <<<"$minfo" | awk '{print $(NF-1)}')
want=$(awk -v b="$tb" 'BEGIN {printf "%.1f", b / 2 / 1048576}')
grep -qE "^gpu_weights +bf16/fp16 $want MiB" <<<"$minfo" && ok || bad "gpu_weights: want bf16 $want MiB: $minfo"
grep -qE '^gpus +(built without CUDA|none visible)$' <<<"$minfo" && ok || bad "info --model: no gpus line: $minfo"

# help texts name the options
for c in run embed compare; do
  "$CMTEB_BIN" $c --help | grep -q -- '--dtype' && "$CMTEB_BIN" $c --help | grep -q -- '--device' && ok \
    || bad "cmteb $c --help does not mention --device and --dtype"
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
