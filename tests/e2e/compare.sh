#!/usr/bin/env bash
# compare.sh: `cmteb compare` with four pooling variants of a random-weight
# fixture model (tests/fixtures/hf/bert-tiny) on the demo tasks and, when
# ../shared/data is there, on STSBenchmark: one backbone pass per text, each
# variant's scores equal a separate `cmteb run` with that pooling, results in
# the normal layout, a comparison with significance marks in markdown and
# HTML (rendered in headless Chromium when installed), resume, errors.
set -uo pipefail
model="$CMTEB_SRC/tests/fixtures/hf/bert-tiny"
out="$CMTEB_TMP/e2e_compare"
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
V=(--variant mean:pooling=mean --variant cls:pooling=cls --variant last:pooling=last --variant wmean:pooling=weightedmean)
# passes FILE NVARIANTS: the backbone ran each text once for all variants.
passes() {
  local line f s
  line=$(grep -E '^Forward passes: [0-9]+ texts through the backbone; the [0-9]+ variants run separately would need [0-9]+' "$1")
  f=$(sed -E 's/^Forward passes: ([0-9]+) texts.*/\1/' <<<"$line")
  s=$(sed -E 's/.*would need ([0-9]+):.*/\1/' <<<"$line")
  if [ -n "$line" ] && [ "$f" -gt 0 ] && [ "$s" -eq $(( f * $2 )) ]; then ok; else bad "$1: want one pass per text: '$line'"; fi
}
"$CMTEB_BIN" compare --model "hf:$model" "${V[@]}" --benchmark demo --output "$out/r" --quiet > "$out/demo.txt" 2>&1 \
  || { bad "compare on demo failed"; cat "$out/demo.txt"; }
passes "$out/demo.txt" 4
cmp="$out/r/comparisons/cmteb-fixtures__bert-tiny"
for f in comparison.md comparison.html comparison.json; do [ -s "$cmp/$f" ] && ok || bad "missing $cmp/$f"; done
for v in mean cls last wmean; do
  grep -qE "^\| $v \| " "$cmp/comparison.md" && ok || bad "comparison.md lacks variant $v"
  [ "$(ls "$out/r/cmteb-fixtures__bert-tiny-$v/no_revision_available/"Demo*.json 2>/dev/null | wc -l)" -eq 7 ] && ok || bad "variant $v: 7 result files"
done
grep -q '1000 resamples, seed 42' "$cmp/comparison.md" && ok || bad "comparison.md names the bootstrap"
# Task differences are tested where both runs kept at least 10 per-item values; the others say why not.
tested=$(grep -c '"tested":	true' "$cmp/comparison.json")
untested=$(grep -c '"tested":	false' "$cmp/comparison.json")
why=$(grep -c '"note":	"only [0-9]* paired items; a bootstrap test needs at least 10"' "$cmp/comparison.json")
[ "$tested" -gt 0 ] && ok || bad "comparison.json: no difference was tested"
[ "$untested" -eq 0 ] || [ "$why" -gt 0 ] && ok || bad "comparison.json: $untested untested without a reason"
grep -qE '^\| DemoClassification \| accuracy \| [-0-9.]+ \| [-0-9.]+ \| [-+][0-9.]+\*? \|' "$cmp/comparison.md" && ok || bad "DemoClassification was not tested"
# A shared pass gives what a separate run with that pooling gives.
for v in cls last; do
  "$CMTEB_BIN" run --model "hf:$model" --pooling $v --model-name "solo/$v" --benchmark demo --output "$out/solo" --quiet > /dev/null 2>&1 || bad "run --pooling $v failed"
  a=$(cat "$out/r/cmteb-fixtures__bert-tiny-$v/no_revision_available/"Demo*.json | grep '"main_score"')
  b=$(cat "$out/solo/solo__$v/no_revision_available/"Demo*.json | grep '"main_score"')
  [ -n "$a" ] && [ "$a" = "$b" ] && ok || bad "variant $v differs from cmteb run --pooling $v"
done
# The variants are ordinary results: cmteb report reads them.
"$CMTEB_BIN" report --benchmark demo "$out/r" > "$out/report.md" 2>&1 && grep -q '4 models, 7 tasks' "$out/report.md" && ok || bad "report of the variants"
# Resume: nothing runs again.
"$CMTEB_BIN" compare --model "hf:$model" "${V[@]}" --benchmark demo --output "$out/r" --quiet > "$out/again.txt" 2>&1 || bad "resume failed"
grep -q '^Forward passes: 0 texts' "$out/again.txt" && ok || bad "resume ran the backbone again"
# Shared vectors live in each variant's on-disk cache (bounded memory): one cache folder per variant, and
# with the results gone but the cache kept, a rerun needs no forward pass and scores the same.
[ "$(ls "$out/r/.cache"/*/meta.json 2>/dev/null | wc -l)" -eq 4 ] && ok || bad "want 4 variant caches in $out/r/.cache"
cat "$out/r/cmteb-fixtures__bert-tiny-"*/no_revision_available/Demo*.json | grep '"main_score"' > "$out/scores1.txt"
rm -rf "$out/r/cmteb-fixtures__bert-tiny-"*
"$CMTEB_BIN" compare --model "hf:$model" "${V[@]}" --benchmark demo --output "$out/r" --quiet > "$out/cached.txt" 2>&1 || bad "cached rerun failed"
grep -q '^Forward passes: 0 texts' "$out/cached.txt" && ok || bad "cached rerun ran the backbone: $(grep Forward "$out/cached.txt")"
cat "$out/r/cmteb-fixtures__bert-tiny-"*/no_revision_available/Demo*.json | grep '"main_score"' > "$out/scores2.txt"
[ -s "$out/scores1.txt" ] && cmp -s "$out/scores1.txt" "$out/scores2.txt" && ok || bad "scores from the cache differ"
# --no-cache: the in-memory stash shares the pass just the same, and nothing is written to a cache.
"$CMTEB_BIN" compare --model "hf:$model" "${V[@]}" --benchmark demo --output "$out/nc" --no-cache --quiet > "$out/nocache.txt" 2>&1 \
  || { bad "compare --no-cache failed"; cat "$out/nocache.txt"; }
passes "$out/nocache.txt" 4
[ ! -e "$out/nc/.cache" ] && ok || bad "--no-cache wrote $out/nc/.cache"
cat "$out/nc/cmteb-fixtures__bert-tiny-"*/no_revision_available/Demo*.json | grep '"main_score"' > "$out/scores3.txt"
cmp -s "$out/scores1.txt" "$out/scores3.txt" && ok || bad "--no-cache scores differ"
# Groups: attention=causal needs its own pass; instructions=off on a model without prompts does not.
"$CMTEB_BIN" compare --model "hf:$model" --variant a:pooling=mean --variant b:pooling=mean,attention=causal \
  --variant c:pooling=cls,instructions=off --tasks DemoSTS --output "$out/g" > "$out/groups.txt" 2>&1 || bad "groups run failed"
grep -q '2 forward-pass groups' "$out/groups.txt" && ok || bad "want 2 groups: $(grep Forward "$out/groups.txt")"
# Real data.
if [ -d "$CMTEB_SHARED/data/mteb/stsbenchmark-sts" ]; then
  "$CMTEB_BIN" compare --model "hf:$model" "${V[@]}" --tasks STSBenchmark --data-dir "$CMTEB_SHARED/data" \
    --output "$out/real" --quiet > "$out/real.txt" 2>&1 || { bad "compare on STSBenchmark failed"; tail -3 "$out/real.txt"; }
  passes "$out/real.txt" 4
  grep -qE '^\| STSBenchmark \| cosine_spearman \|' "$out/real/comparisons/cmteb-fixtures__bert-tiny/comparison.md" && ok || bad "real comparison table"
else
  echo "note: $CMTEB_SHARED/data absent, real-data part skipped"
fi
# The HTML comparison renders: 4 variants x (average + 7 categories) + 3 x 7 differences = 53 bars.
bash "$CMTEB_SRC/tests/html/check_html.sh" "$cmp/comparison.html" "$CMTEB_TMP/html/compare" 2 53 \
  'id="chart-categories"' 'id="chart-task-diff"' 'data-series="wmean"'
case $? in 0) ok ;; 77) echo "note: chromium absent, HTML rendering not checked" ;; *) bad "HTML comparison did not render" ;; esac
# Errors.
expect 2 'give --model hf:PATH' -- "$CMTEB_BIN" compare --model hash "${V[@]}" --benchmark demo
expect 2 'at least two --variant' -- "$CMTEB_BIN" compare --model "hf:$model" --variant a:pooling=mean --benchmark demo
expect 2 "unknown key 'pool'" -- "$CMTEB_BIN" compare --model "hf:$model" --variant a:pool=mean --variant b --benchmark demo
expect 2 "two variants are named 'a'" -- "$CMTEB_BIN" compare --model "hf:$model" --variant a --variant a:pooling=cls --benchmark demo
expect 1 "latent-attention model" -- "$CMTEB_BIN" compare --model "hf:$model" --variant a --variant b:pooling=latent --tasks DemoSTS --output "$out/bad" --quiet
"$CMTEB_BIN" compare --help | grep -q 'usage: cmteb compare' && ok || bad "--help"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
