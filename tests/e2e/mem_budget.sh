#!/usr/bin/env bash
# mem_budget.sh: `cmteb run --mem-budget SIZE` derives the retrieval chunk size from a memory budget:
# a budget below the whole corpus gives smaller chunks and the same scores, a budget that cannot hold
# the query vectors and heaps is refused with the size it needs, a malformed size is a usage error.
set -uo pipefail
out="$CMTEB_TMP/e2e_mem_budget"
rm -rf "$out"; mkdir -p "$out"
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
score() { grep -h '"ndcg_at_10"' "$1"/*/*/"$2".json 2>/dev/null | head -1; }

"$CMTEB_BIN" run --model hash --tasks DemoRetrieval --output "$out/d0" --no-cache > /dev/null 2>&1 || bad "demo run failed"
"$CMTEB_BIN" run --model hash --tasks DemoRetrieval --output "$out/d1" --no-cache --mem-budget 1G > "$out/d1.txt" 2>&1 \
  || bad "demo run with a budget failed: $(tail -2 "$out/d1.txt")"
grep -qE 'DemoRetrieval: --mem-budget 1024.0 MiB: corpus chunks of [0-9]+ documents' "$out/d1.txt" && ok \
  || bad "no chunk line: $(grep -i budget "$out/d1.txt")"
[ -n "$(score "$out/d0" DemoRetrieval)" ] && [ "$(score "$out/d0" DemoRetrieval)" = "$(score "$out/d1" DemoRetrieval)" ] && ok \
  || bad "budgeted demo score differs"
"$CMTEB_BIN" run --model hash --tasks DemoRetrieval --output "$out/d2" --no-cache --mem-budget 64K > "$out/d2.txt" 2>&1
[ $? -ne 0 ] && grep -qE 'mem-budget 0.1 MiB is too small for [0-9]+ queries of dim 512: one document per chunk already needs [0-9.]+ MiB' "$out/d2.txt" \
  && ok || bad "tiny budget: $(tail -2 "$out/d2.txt")"
"$CMTEB_BIN" run --model hash --tasks DemoRetrieval --mem-budget 12Q > "$out/d3.txt" 2>&1
[ $? -eq 2 ] && grep -q 'expects a size such as 512M or 8G' "$out/d3.txt" && ok || bad "malformed size: $(cat "$out/d3.txt")"

if [ -d "$CMTEB_SHARED/data/mteb/scifact" ]; then
  # hash:512 on SciFact: the whole corpus is one 5183-document chunk (34.8 MiB predicted); 28M forces ~1,700.
  "$CMTEB_BIN" run --model hash --tasks SciFact --data-dir "$CMTEB_SHARED/data" --output "$out/s0" --no-cache > /dev/null 2>&1 \
    || bad "SciFact run failed"
  "$CMTEB_BIN" run --model hash --tasks SciFact --data-dir "$CMTEB_SHARED/data" --output "$out/s1" --no-cache \
    --mem-budget 28M > "$out/s1.txt" 2>&1 || bad "SciFact with a budget failed: $(tail -2 "$out/s1.txt")"
  n=$(sed -nE 's/.*corpus chunks of ([0-9]+) documents.*/\1/p' "$out/s1.txt")
  [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -lt 5183 ] && ok || bad "SciFact: want a chunk below 5183 documents, got '$n'"
  grep -qE 'predicted peak memory of the search (2[0-7]\.[0-9]|28\.0) MiB' "$out/s1.txt" && ok \
    || bad "SciFact: predicted peak not within the budget: $(grep predicted "$out/s1.txt")"
  [ -n "$(score "$out/s0" SciFact)" ] && [ "$(score "$out/s0" SciFact)" = "$(score "$out/s1" SciFact)" ] && ok \
    || bad "SciFact score with chunks of $n differs"
else
  echo "note: $CMTEB_SHARED/data absent, SciFact part skipped"
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
