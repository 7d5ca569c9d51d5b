#!/usr/bin/env bash
# matryoshka_dim.sh: `--dim N` (Matryoshka truncation) through the CLI on the NomicBert fixture
# (tests/fixtures/hf/nomic-tiny: mean pooling + Normalize): `cmteb info` shows the truncated width, `cmteb
# embed --dim 16` writes the first 16 values of the full vectors renormalised, `cmteb run --dim 16` files
# results under "<model>-dim16" with embed_dim 16, `cmteb compare` takes a dim=16 variant, and bad values or
# backends without --dim fail clearly.
set -uo pipefail
fix="$CMTEB_SRC/tests/fixtures/hf/nomic-tiny"
out="$CMTEB_TMP/e2e_matryoshka"
rm -rf "$out"; mkdir -p "$out"
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
printf 'A man is playing a guitar.\nhello world\nthe quick brown fox jumps over the lazy dog\n' > "$out/texts.txt"
export CMTEB_DEVICE=cpu

"$CMTEB_BIN" info --model "hf:$fix" --dim 16 > "$out/info.txt" 2>&1 || bad "info failed: $(cat "$out/info.txt")"
grep -qE '^embedding_dim +16 \(--dim: the first 16 of the model.s 64 values, renormalised\)$' "$out/info.txt" && ok \
  || bad "info embedding_dim: $(grep embedding_dim "$out/info.txt")"

"$CMTEB_BIN" embed --model "hf:$fix" --input "$out/texts.txt" --output "$out/full.npy" --quiet 2> "$out/e1.err" \
  || bad "embed failed: $(cat "$out/e1.err")"
"$CMTEB_BIN" embed --model "hf:$fix" --dim 16 --input "$out/texts.txt" --output "$out/cut.npy" --quiet \
  2> "$out/e2.err" || bad "embed --dim failed: $(cat "$out/e2.err")"
/usr/bin/python3 - "$out/full.npy" "$out/cut.npy" <<'PY' && ok || bad "--dim 16 vectors are not the renormalised prefix"
import sys, numpy as np
f, c = np.load(sys.argv[1]), np.load(sys.argv[2])
p = f[:, :16] / np.linalg.norm(f[:, :16], axis=1, keepdims=True)
sys.exit(0 if f.shape == (3, 64) and c.shape == (3, 16) and np.abs(p - c).max() < 1e-6 else 1)
PY

"$CMTEB_BIN" run --model "hf:$fix" --dim 16 --tasks DemoSTS --output "$out/r" --quiet > "$out/run.txt" 2>&1 \
  && ok || bad "run --dim 16 failed: $(tail -3 "$out/run.txt")"
meta=$(find "$out/r" -path '*nomic-tiny-dim16*' -name model_meta.json | head -1)
if [ -n "$meta" ] && /usr/bin/python3 -c "import json,sys; m=json.load(open(sys.argv[1])); \
sys.exit(0 if m.get('embed_dim') == 16 and m.get('name', '').endswith('-dim16') else 1)" "$meta"; then ok
else bad "no model_meta.json with embed_dim 16 under a -dim16 model folder: $(find "$out/r" -name model_meta.json)"; fi

"$CMTEB_BIN" compare --model "hf:$fix" --tasks DemoSTS --variant full:pooling=mean --variant d16:dim=16 \
  --output "$out/c" --quiet > "$out/cmp.txt" 2>&1 && ok || bad "compare with dim=16 failed: $(tail -3 "$out/cmp.txt")"
[ -d "$out/c/cmteb-fixtures__nomic-tiny-d16" ] && ok || bad "compare wrote no d16 variant: $(ls "$out/c")"

expect_fail() {   # expect_fail PATTERN ARGS...: `cmteb embed ARGS` fails with a message matching PATTERN
  local pat=$1 msg rc; shift
  msg=$("$CMTEB_BIN" embed --input "$out/texts.txt" --output "$out/x.npy" --quiet "$@" 2>&1 >/dev/null); rc=$?
  if [ $rc -ne 0 ] && grep -qE -- "$pat" <<<"$msg"; then ok; else bad "$*: rc $rc, message: $msg (want /$pat/)"; fi
}
expect_fail '--dim 65: expected 1..64' --model "hf:$fix" --dim 65
expect_fail '--dim is not supported by the hash backend' --model hash --dim 8
expect_fail 'option --dim expects a positive integer' --model "hf:$fix" --dim 0

echo "matryoshka_dim: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
