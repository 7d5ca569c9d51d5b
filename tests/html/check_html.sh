#!/usr/bin/env bash
# check_html.sh: renders a cmteb HTML report in headless Chromium and checks
# that it laid out: the charts and their bars have a size on the page, and a
# screenshot is taken.
#
#   check_html.sh REPORT.html OUT_PREFIX MIN_CHARTS MIN_BARS [DOM_PATTERN...]
#
# A copy of the report gets a probe script appended (the report itself has no
# scripts); after load the probe writes what it measured into the DOM, which
# --dump-dom prints. Writes OUT_PREFIX.png (screenshot), OUT_PREFIX.dom.html
# (rendered DOM). Exit 0 when all checks pass, 1 otherwise, 77 when Chromium
# is not installed (Debian package `chromium`).
set -uo pipefail
html=$1 prefix=$2 min_charts=$3 min_bars=$4; shift 4
chrome=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$chrome" ]; then echo "SKIP: chromium not installed (apt-get install chromium)"; exit 77; fi
mkdir -p "$(dirname "$prefix")"
probe="$prefix.probe.html"
sed 's#</body>#<script>\
addEventListener("load", function () {\
  var charts = document.querySelectorAll("svg.cm-chart"), bars = document.querySelectorAll("rect.cm-bar");\
  var drawn = 0, sized = 0;\
  bars.forEach(function (b) { var r = b.getBoundingClientRect(); if (r.width > 0 \&\& r.height > 0) drawn++; });\
  charts.forEach(function (c) { var r = c.getBoundingClientRect(); if (r.width > 100 \&\& r.height > 100) sized++; });\
  var p = document.createElement("pre"); p.id = "cmteb-probe";\
  p.textContent = "charts=" + charts.length + " sized=" + sized + " bars=" + bars.length + " drawn=" + drawn;\
  document.body.appendChild(p);\
});\
</script></body>#' "$html" > "$probe"
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$prefix.profile" --virtual-time-budget=3000)
url="file://$(cd "$(dirname "$probe")" && pwd)/$(basename "$probe")"
timeout 120 "$chrome" "${flags[@]}" --dump-dom "$url" > "$prefix.dom.html" 2>"$prefix.chromium.log"
timeout 120 "$chrome" "${flags[@]}" --screenshot="$prefix.png" --window-size=1400,2000 "$url" >>"$prefix.chromium.log" 2>&1
rm -rf "$prefix.profile"
fail=0
line=$(grep -o 'charts=[0-9]* sized=[0-9]* bars=[0-9]* drawn=[0-9]*' "$prefix.dom.html" || true)
echo "rendered: ${line:-nothing}"
if [ -z "$line" ]; then echo "FAIL: the probe did not run (see $prefix.chromium.log)"; fail=1; else
  read -r charts sized bars drawn <<<"$(sed 's/[a-z]*=//g' <<<"$line")"
  [ "$charts" -ge "$min_charts" ] && [ "$sized" -eq "$charts" ] || { echo "FAIL: $charts charts, $sized with a size (want >= $min_charts, all)"; fail=1; }
  [ "$bars" -ge "$min_bars" ] && [ "$drawn" -eq "$bars" ] || { echo "FAIL: $bars bars, $drawn drawn (want >= $min_bars, all)"; fail=1; }
fi
for pat in "$@"; do
  grep -qE -- "$pat" "$prefix.dom.html" || { echo "FAIL: rendered DOM lacks /$pat/"; fail=1; }
done
size=$(stat -c %s "$prefix.png" 2>/dev/null || echo 0)
echo "screenshot: $prefix.png ($size bytes)"
[ "$size" -gt 20000 ] || { echo "FAIL: screenshot missing or blank"; fail=1; }
exit $fail
