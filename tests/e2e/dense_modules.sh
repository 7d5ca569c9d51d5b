#!/usr/bin/env bash
# dense_modules.sh: a sentence-transformers model with Dense modules after pooling
# (tests/fixtures/hf/bert-tiny-dense: 64->48 tanh, 48->32 identity, Normalize) through the CLI:
# `cmteb info` shows the chain and the 32-wide output, `cmteb embed` writes unit vectors of width 32,
# `cmteb run` evaluates a task with it, and broken Dense modules fail with messages naming the file.
set -uo pipefail
fix="$CMTEB_SRC/tests/fixtures/hf/bert-tiny-dense"
out="$CMTEB_TMP/e2e_dense"
rm -rf "$out"; mkdir -p "$out"
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
printf 'A man is playing a guitar.\nhello world\n' > "$out/texts.txt"

"$CMTEB_BIN" info --model "hf:$fix" > "$out/info.txt" 2>&1 || bad "info failed: $(cat "$out/info.txt")"
grep -qE '^pooling +cls \+ Dense 64->48 tanh, 48->32 identity \(no bias\) \+ L2 normalize$' "$out/info.txt" && ok \
  || bad "info pooling line: $(grep pooling "$out/info.txt")"
grep -qE '^embedding_dim +32$' "$out/info.txt" && ok || bad "info embedding_dim: $(grep embedding_dim "$out/info.txt")"

"$CMTEB_BIN" embed --model "hf:$fix" --input "$out/texts.txt" --output "$out/v.npy" --quiet 2> "$out/embed.err" \
  || bad "embed failed: $(cat "$out/embed.err")"
/usr/bin/python3 - "$out/v.npy" <<'PY' && ok || bad "embed output is not 2 unit vectors of width 32"
import sys, numpy as np
v = np.load(sys.argv[1])
sys.exit(0 if v.shape == (2, 32) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5) else 1)
PY

"$CMTEB_BIN" run --model "hf:$fix" --tasks DemoSTS --output "$out/r" --quiet > "$out/run.txt" 2>&1 \
  && ok || bad "run DemoSTS failed: $(tail -3 "$out/run.txt")"

# broken copies: expect_fail NAME PATTERN (the command is `cmteb embed` on $out/NAME)
expect_fail() {
  local msg rc
  msg=$("$CMTEB_BIN" embed --model "hf:$out/$1" --input "$out/texts.txt" --output "$out/x.npy" --quiet 2>&1 >/dev/null)
  rc=$?
  if [ $rc -ne 0 ] && grep -qE -- "$2" <<<"$msg"; then ok; else bad "$1: rc $rc, message: $msg (want /$2/)"; fi
}
broken() { rm -rf "$out/$1"; cp -r "$fix" "$out/$1"; }
broken width; sed -i 's/"in_features": 48/"in_features": 40/' "$out/width/3_Dense/config.json"
expect_fail width '3_Dense/config.json: in_features 40, but the vector reaching it has 48 values'
broken act; sed -i 's/activation.Tanh/activation.Softplus/' "$out/act/2_Dense/config.json"
expect_fail act "2_Dense/config.json: activation_function 'torch.nn.modules.activation.Softplus' is not supported"
broken pickle; mv "$out/pickle/2_Dense/model.safetensors" "$out/pickle/2_Dense/pytorch_model.bin"
expect_fail pickle '2_Dense/pytorch_model.bin: Dense weights are a PyTorch pickle'
broken noconf; rm "$out/noconf/3_Dense/config.json"
expect_fail noconf '3_Dense/config.json'
broken shape; cp "$fix/2_Dense/model.safetensors" "$out/shape/3_Dense/model.safetensors"
expect_fail shape 'linear.weight'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
