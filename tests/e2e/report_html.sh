#!/usr/bin/env bash
# report_html.sh: the HTML report renders in headless Chromium: its charts lay
# out with every bar drawn, and a screenshot goes to $CMTEB_TMP/html/. Skips
# when Chromium is absent (Debian package `chromium`).
set -uo pipefail
fix="$CMTEB_SRC/tests/fixtures/results/published"
out="$CMTEB_TMP/html"
mkdir -p "$out"
"$CMTEB_BIN" report --benchmark "MTEB(eng, v1)" --output "$out/report.html" "$fix/current" "$fix/v1" || exit 1
# 3 models x (average + 7 categories) = 24 category bars; per-task differences of 2 models
# over the 10 tasks the first (partial) model has = 20 bars.
bash "$CMTEB_SRC/tests/html/check_html.sh" "$out/report.html" "$out/report" 2 44 \
  'id="chart-categories"' 'id="chart-task-diff"' 'data-label="PairClassification"' \
  '<td class="num">86.91</td>' 'nvidia/NV-Embed-v1@570834afd5'
rc=$?
[ $rc -eq 0 ] && echo "1 passed, 0 failed" || { [ $rc -eq 77 ] || echo "0 passed, 1 failed"; }
exit $rc
