#!/usr/bin/env bash
# report.sh: `cmteb report` on published-results fixtures in both MTEB layouts
# (tests/fixtures/results/published, NV-Embed-v1 from its model card) prints the
# leaderboard's 69.32 and category means; formats, model folders, cmteb's own
# results, and errors with their exit codes.
set -uo pipefail
fix="$CMTEB_SRC/tests/fixtures/results/published"
out="$CMTEB_TMP/e2e_report"
rm -rf "$out"; mkdir -p "$out"
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
has() { # has FILE PATTERN
  if grep -qF -- "$2" "$1"; then ok; else bad "$1 lacks: $2"; fi
}
expect() { # expect CODE PATTERN -- command...
  local code=$1 pat=$2; shift 3
  local msg; msg=$("$@" 2>&1 >/dev/null); local rc=$?
  if [ $rc -eq "$code" ] && grep -qE -- "$pat" <<<"$msg"; then ok;
  else bad "$* -> rc $rc (want $code), message: $msg (want /$pat/)"; fi
}
B="MTEB(eng, v1)"
# Leaderboard numbers: Average 69.32; protocol §4 category means, in the table's column order
# (Classification, Clustering, PairClassification, Reranking, Retrieval, STS, Summarization).
row='69.32 | 87.35 | 52.80 | 86.91 | 60.54 | 59.36 | 82.84 | 31.20 |'
"$CMTEB_BIN" report --benchmark "$B" "$fix/v1" > "$out/v1.md" || bad "report v1 failed"
has "$out/v1.md" "| NV-Embed-v1 | $row"
"$CMTEB_BIN" report --benchmark "$B" "$fix/current/nvidia__NV-Embed-v1/external" > "$out/ext.md" || bad "report external failed"
has "$out/ext.md" "| nvidia/NV-Embed-v1 | $row"
has "$out/ext.md" "split 'dev' absent; used 'test'"
# A results root with three model folders: side by side; the partial one is marked and its gaps named.
"$CMTEB_BIN" report --benchmark MTEB "$fix" > "$out/all.md" || bad "report root failed"
has "$out/all.md" "# MTEB(eng, v1): 3 models, 56 tasks"
has "$out/all.md" "| nvidia/NV-Embed-v1@external | $row"
has "$out/all.md" "| nvidia/NV-Embed-v1@570834afd5 | 75.50¹ |"
has "$out/all.md" "(46 of 56): AmazonCounterfactualClassification"
has "$out/all.md" "| PairClassification (3) |"
# Other formats; --output picks the format from the extension.
"$CMTEB_BIN" report --benchmark "$B" --format csv "$fix/v1" > "$out/v1.csv" || bad "csv failed"
has "$out/v1.csv" "NV-Embed-v1,,56,56,69.32,87.35,52.80,86.91,60.54,59.36,82.84,31.20,"
"$CMTEB_BIN" report --benchmark "$B" --output "$out/v1.json" "$fix/v1" 2>/dev/null || bad "json failed"
has "$out/v1.json" '"benchmark":	"MTEB(eng, v1)"'
has "$out/v1.json" '"key":	"cos_sim.ap"'
grep -q '"mean":	69.318571428571' "$out/v1.json" && ok || bad "json average is not 69.318571428571..."
"$CMTEB_BIN" report --benchmark "$B" --output "$out/v1.html" "$fix/v1" 2>/dev/null || bad "html failed"
has "$out/v1.html" '<svg class="cm-chart" id="chart-categories"'
has "$out/v1.html" '<svg class="cm-chart" id="chart-task-scores"'
# --tasks, and no --benchmark: every task found (CQADupstack's 12 files count once).
"$CMTEB_BIN" report --tasks SciFact,STS17 "$fix/v1" > "$out/two.md" || bad "--tasks failed"
has "$out/two.md" "| NV-Embed-v1 | 82.92 |"
"$CMTEB_BIN" report "$fix/v1" > "$out/found.md" || bad "report without benchmark failed"
has "$out/found.md" "# Results: 1 model, 56 tasks"
has "$out/found.md" "mean of the 12 CQADupstack*Retrieval subforum files"
# cmteb's own results read back (run + report round trip).
if "$CMTEB_BIN" run --model hash --benchmark demo --output "$out/own" --quiet > "$out/run.txt" 2>&1; then
  "$CMTEB_BIN" report --benchmark demo "$out/own" > "$out/own.md" || bad "report of cmteb's results failed"
  has "$out/own.md" "| cmteb/hash-"
  score=$(grep -E '^\| DemoSTS ' "$out/run.txt" | awk -F'|' '{gsub(/ /,"",$5); print $5}')
  [ -n "$score" ] && grep -qE "^\| DemoSTS \| cosine_spearman \| $score \|" "$out/own.md" && ok || bad "report shows another DemoSTS score than run ($score)"
else
  bad "cmteb run --benchmark demo failed: $(tail -2 "$out/run.txt")"
fi
# Errors.
expect 1 'no-such-dir: no such results folder' -- "$CMTEB_BIN" report "$out/no-such-dir"
mkdir -p "$out/empty"
expect 1 'no results files found' -- "$CMTEB_BIN" report "$out/empty"
mkdir -p "$out/broken/m"; printf '{\n  "test": {"cos_sim": {"spearman": 0.5,}}\n}\n' > "$out/broken/m/STS12.json"
expect 1 'STS12.json:2: invalid JSON' -- "$CMTEB_BIN" report "$out/broken"
expect 1 'unknown benchmark "NoBench"' -- "$CMTEB_BIN" report --benchmark NoBench "$fix/v1"
expect 1 "task 'NoTask' is not part of benchmark" -- "$CMTEB_BIN" report --benchmark "$B" --tasks NoTask "$fix/v1"
expect 2 'unknown report format' -- "$CMTEB_BIN" report --format pdf "$fix/v1"
expect 2 'give at least one RESULTS_DIR' -- "$CMTEB_BIN" report
expect 2 "unknown option '--frob'" -- "$CMTEB_BIN" report --frob "$fix/v1"
"$CMTEB_BIN" report --help | grep -q 'usage: cmteb report' && ok || bad "--help"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
