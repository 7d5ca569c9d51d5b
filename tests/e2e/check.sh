#!/usr/bin/env bash
# check.sh: `cmteb check` as a CI gate. An identical candidate passes; one with a
# lowered score fails; a small drop that every query shares fails by the paired
# bootstrap (and passes with --no-bootstrap); a noisy small drop passes; a
# missing task fails unless allowed; JUnit XML says which task failed.
set -uo pipefail
fix="$CMTEB_SRC/tests/fixtures/results/check"
out="$CMTEB_TMP/e2e_check"
rm -rf "$out"; mkdir -p "$out"
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
run() { # run WANT_RC NAME -- command...: output in $out/NAME.txt
  local want=$1 name=$2; shift 3
  "$@" > "$out/$name.txt" 2>&1; local rc=$?
  [ $rc -eq "$want" ] && ok || { bad "$name: rc $rc, want $want"; cat "$out/$name.txt"; }
}
has() { grep -qF -- "$2" "$out/$1.txt" && ok || bad "$1 lacks: $2"; }
C="$CMTEB_BIN check"
# Identical copy (a different folder, same model name and revision).
cp -r "$fix/baseline" "$out/same"
run 0 same -- $C --baseline "$fix/baseline" --candidate "$out/same" --junit "$out/same.xml"
has same "3 tasks: 0 regressed"
has same "nothing moved"
grep -q 'failures="0"' "$out/same.xml" && ok || bad "same.xml should have no failures"
# One lowered score (SciFact ndcg_at_10 -2 points in the results file).
cp -r "$fix/baseline" "$out/lowered"
f="$out/lowered/cmteb-test__tiny-model/1/SciFact.json"
v=$(grep -o '"main_score": [0-9.]*' "$f" | awk '{print $2}')
nv=$(awk -v v="$v" 'BEGIN{printf "%.5f", v-0.02}')
sed -i "s/$v/$nv/g" "$f"
run 1 lowered -- $C --baseline "$fix/baseline" --candidate "$out/lowered" --junit "$out/lowered.xml"
has lowered "| SciFact | ndcg_at_10 |"
has lowered "| -2.00 |"
has lowered "REGRESSED"
has lowered "cmteb check: 1 of 3 tasks regressed: SciFact -2.00"
grep -q 'failures="1"' "$out/lowered.xml" && ok || bad "lowered.xml: failures=1"
grep -q '<testcase classname="cmteb.check.Retrieval" name="SciFact" time="0">' "$out/lowered.xml" && ok || bad "lowered.xml: SciFact testcase"
grep -q '<failure type="regression" message="SciFact ndcg_at_10 fell 2.00 points' "$out/lowered.xml" && ok || bad "lowered.xml: failure message"
[ "$(grep -c '<testcase ' "$out/lowered.xml")" -eq 3 ] && ok || bad "lowered.xml: 3 testcases"
if command -v xmllint >/dev/null; then xmllint --noout "$out/lowered.xml" && ok || bad "lowered.xml is not well-formed"; fi
# A wide tolerance lets it pass.
run 0 lowered_tol -- $C --baseline "$fix/baseline" --candidate "$out/lowered" --tolerance 2.5 --no-bootstrap
# Small drop shared by every query: within tolerance, significant by the paired bootstrap.
run 1 small -- $C --baseline "$fix/baseline" --candidate "$fix/small_drop"
has small "REGRESSED (significant)"
has small "| -0.30 | 0.0010 |"
has small "1000 resamples, seed 42"
run 0 small_nobs -- $C --baseline "$fix/baseline" --candidate "$fix/small_drop" --no-bootstrap
has small_nobs "0 regressed"
# Noisy small drop: not significant, within tolerance.
run 0 noise -- $C --baseline "$fix/baseline" --candidate "$fix/noise"
has noise "| STSBenchmark | cosine_spearman |"
has noise "| ok |"
run 1 noise_tight -- $C --baseline "$fix/baseline" --candidate "$fix/noise" --tolerance 0.1
# A task missing from the candidate.
cp -r "$fix/baseline" "$out/missing"; rm "$out/missing/cmteb-test__tiny-model/1/STSBenchmark.json"
run 1 missing -- $C --baseline "$fix/baseline" --candidate "$out/missing"
has missing "STSBenchmark missing"
run 0 missing_ok -- $C --baseline "$fix/baseline" --candidate "$out/missing" --allow-missing
# Restricting the tasks.
run 0 only -- $C --baseline "$fix/baseline" --candidate "$out/lowered" --tasks STSBenchmark,SprintDuplicateQuestions
has only "2 tasks: 0 regressed"
# Errors.
run 1 several -- $C --baseline "$fix" --candidate "$out/same"
has several "holds 3 model folders"
run 1 nodir -- $C --baseline "$out/nope" --candidate "$out/same"
has nodir "no such results folder"
run 2 noargs -- $C --baseline "$fix/baseline"
has noargs "give --baseline DIR and --candidate DIR"
run 2 badtol -- $C --baseline "$fix/baseline" --candidate "$out/same" --tolerance -1
run 0 help -- $C --help
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
