#!/usr/bin/env bash
# list.sh: end-to-end checks of `cmteb list`: the 56 tasks of MTEB(eng, v1),
# type filtering, exit codes, JSON output, data presence on a fabricated hub
# tree (BEIR folders, CQADupstack's 12 subsets, subsets, parquet-only splits),
# task files, and on ../shared/data when present.
set -u
BIN=${CMTEB_BIN:?CMTEB_BIN not set}
TMP=${CMTEB_TMP:?CMTEB_TMP not set}/e2e_list
rm -rf "$TMP" && mkdir -p "$TMP"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# rows of a table: lines between the header and the count line
rows() { sed '1d;$d' "$1"; }
# DATA column of a task's row
data_of() { awk -v t="$2" '$1 == t { print $6; exit }' "$1"; }

# --- the benchmark: 56 rows, a count line that says 56
"$BIN" list --benchmark "MTEB(eng, v1)" --data-dir "$TMP/empty" > "$TMP/all.txt" 2> "$TMP/all.err"
rc=$?
[ $rc -eq 0 ] || fail "list --benchmark exited $rc: $(cat "$TMP/all.err")"
n=$(rows "$TMP/all.txt" | wc -l)
[ "$n" -eq 56 ] || fail "expected 56 task rows, got $n"
tail -n 1 "$TMP/all.txt" | grep -q '^56 tasks in MTEB(eng, v1)' || fail "count line: $(tail -n 1 "$TMP/all.txt")"
head -n 1 "$TMP/all.txt" | grep -q '^TASK *TYPE *SPLIT *SUBSET *MAIN SCORE *DATA$' || fail "header: $(head -n 1 "$TMP/all.txt")"
grep -q '^MSMARCO  *Retrieval  *dev  *default  *ndcg_at_10  *no$' "$TMP/all.txt" || fail "MSMARCO row"
grep -q '^STS17  *STS  *test  *en-en  *cosine_spearman  *no$' "$TMP/all.txt" || fail "STS17 row"
grep -q '^SprintDuplicateQuestions  *PairClassification  *test  *default  *cosine_ap ' "$TMP/all.txt" || fail "Sprint row"
[ "$(rows "$TMP/all.txt" | awk '$6 != "no"' | wc -l)" -eq 0 ] || fail "an empty data dir shows data"
# aliases
n=$("$BIN" list --benchmark MTEB | sed '1d;$d' | wc -l)
[ "$n" -eq 56 ] || fail "alias MTEB: $n rows"

# --- per type
for spec in STS:10 sts:10 Classification:12 Clustering:11 PairClassification:3 Reranking:4 Retrieval:15 Summarization:1; do
    ty=${spec%%:*} want=${spec##*:}
    "$BIN" list --benchmark "MTEB(eng, v1)" --type "$ty" > "$TMP/type.txt" || fail "--type $ty exited $?"
    n=$(rows "$TMP/type.txt" | wc -l)
    [ "$n" -eq "$want" ] || fail "--type $ty: expected $want rows, got $n"
    tail -n 1 "$TMP/type.txt" | grep -q "^$want tasks\? in MTEB(eng, v1) of type" || fail "--type $ty count line"
done

# --- help and usage errors
"$BIN" list --help > "$TMP/help.txt" 2>&1
[ $? -eq 0 ] || fail "--help did not exit 0"
grep -q 'usage: cmteb list' "$TMP/help.txt" || fail "--help text"
"$BIN" list --no-such-option > /dev/null 2> "$TMP/err.txt"
[ $? -eq 2 ] || fail "unknown option did not exit 2"
grep -q "unknown option '--no-such-option'" "$TMP/err.txt" || fail "unknown option message: $(cat "$TMP/err.txt")"
"$BIN" list stray > /dev/null 2>&1
[ $? -eq 2 ] || fail "a stray argument did not exit 2"
"$BIN" list --type Bitext > /dev/null 2> "$TMP/err.txt"
[ $? -eq 2 ] || fail "--type Bitext did not exit 2"
grep -q "unknown task type 'Bitext'" "$TMP/err.txt" || fail "bad type message"
"$BIN" list --format yaml > /dev/null 2>&1
[ $? -eq 2 ] || fail "--format yaml did not exit 2"
"$BIN" list --benchmark > /dev/null 2>&1
[ $? -eq 2 ] || fail "--benchmark without a value did not exit 2"
"$BIN" list --benchmark "MTEB(fra)" > /dev/null 2> "$TMP/err.txt"
[ $? -eq 1 ] || fail "unknown benchmark did not exit 1"
[ "$(wc -l < "$TMP/err.txt")" -eq 1 ] || fail "unknown benchmark: not one line on stderr"
grep -q 'unknown benchmark "MTEB(fra)" (known: .*"MTEB(eng, v1)"' "$TMP/err.txt" || fail "unknown benchmark message: $(cat "$TMP/err.txt")"

# --- JSON
"$BIN" list --benchmark "MTEB(eng, v1)" --format json > "$TMP/all.json" || fail "--format json exited $?"
[ "$(grep -c '"name":' "$TMP/all.json")" -eq 56 ] || fail "json: not 56 names"
grep -q '"count":[[:space:]]*56' "$TMP/all.json" || fail "json count"
grep -q '"revision":[[:space:]]*"b0fddb56ed78048fa8b90373c8a3cfc37b684831"' "$TMP/all.json" || fail "json revision of STSBenchmark"

# --- a fabricated hub tree
D="$TMP/hub"
beir() { # beir DIR SPLIT
    mkdir -p "$1/qrels"
    echo '{"_id": "d1", "title": "", "text": "x"}' > "$1/corpus.jsonl"
    echo '{"_id": "q1", "text": "y"}' | gzip > "$1/queries.jsonl.gz"
    printf 'query-id\tcorpus-id\tscore\nq1\td1\t1\n' > "$1/qrels/$2.tsv"
}
for f in android english gaming gis mathematica physics programmers stats tex unix webmasters wordpress; do
    beir "$D/mteb/cqadupstack-$f" test
done
beir "$D/mteb/msmarco" dev
beir "$D/mteb/nfcorpus" train                            # test qrels missing
mkdir -p "$D/mteb/sts17-crosslingual-sts/en-en" "$D/mteb/sts22-crosslingual-sts/en" "$D/mteb/banking77" \
         "$D/mteb/emotion/data"
echo '{"sentence1": "a", "sentence2": "b", "score": 1}' | gzip > "$D/mteb/sts17-crosslingual-sts/en-en/test.jsonl.gz"
printf 'PAR1' > "$D/mteb/sts22-crosslingual-sts/en/test-00000-of-00001.parquet"
echo '{"text": "a", "label": 1}' > "$D/mteb/banking77/test.jsonl"    # no train split
echo '{"text": "a", "label": 1}' > "$D/mteb/emotion/data/test-00000-of-00001.jsonl"
echo '{"text": "a", "label": 1}' > "$D/mteb/emotion/data/train-00000-of-00001.jsonl"
"$BIN" list --benchmark "MTEB(eng, v1)" --data-dir "$D" > "$TMP/hub.txt" || fail "list on the hub tree exited $?"
check_data() { [ "$(data_of "$TMP/hub.txt" "$1")" = "$2" ] || fail "$1: data '$(data_of "$TMP/hub.txt" "$1")', expected '$2'"; }
check_data CQADupstackRetrieval yes
check_data MSMARCO yes
check_data NFCorpus partial   # corpus and queries but no qrels/test
grep -q '^NFCorpus .* partial (2/3 files)$' "$TMP/hub.txt" || fail "NFCorpus partial"
check_data STS17 yes
check_data STS22 yes    # parquet-only is read (through DuckDB)
check_data Banking77Classification partial
check_data EmotionClassification yes
check_data SciFact no
tail -n 1 "$TMP/hub.txt" | grep -q "data present for 5 under $D\$" || fail "hub count line: $(tail -n 1 "$TMP/hub.txt")"
rm "$D/mteb/cqadupstack-gis/queries.jsonl.gz"
"$BIN" list --type Retrieval --data-dir "$D" > "$TMP/hub2.txt"
grep -q '^CQADupstackRetrieval .* partial (35/36 files)$' "$TMP/hub2.txt" || fail "CQADupstack with a subset missing queries: $(grep CQADup "$TMP/hub2.txt")"
"$BIN" list --type Retrieval --data-dir "$D" --format json > "$TMP/hub2.json"
grep -q 'cqadupstack-gis.*queries' "$TMP/hub2.json" || fail "json data_missing does not name the missing piece"

# --- task files
mkdir -p "$TMP/tf/my_data"
echo '{"sentence1": "a", "sentence2": "b", "score": 1}' > "$TMP/tf/my_data/test.jsonl"
cat > "$TMP/tf/tasks.json" <<'EOF'
[{"name": "MyPairs", "type": "STS", "data": "my_data", "settings": {"min_score": 0, "max_score": 1}},
 {"name": "MyMissing", "type": "Clustering", "data": "not_there", "split": "dev"}]
EOF
"$BIN" list --task-file "$TMP/tf/tasks.json" > "$TMP/tf.txt" || fail "--task-file exited $?"
[ "$(rows "$TMP/tf.txt" | wc -l)" -eq 2 ] || fail "--task-file alone should list its 2 tasks"
[ "$(data_of "$TMP/tf.txt" MyPairs)" = yes ] || fail "task file data relative to the file"
[ "$(data_of "$TMP/tf.txt" MyMissing)" = no ] || fail "task file missing data"
n=$("$BIN" list --benchmark "MTEB(eng, v1)" --task-file "$TMP/tf/tasks.json" | sed '1d;$d' | wc -l)
[ "$n" -eq 58 ] || fail "benchmark + task file: $n rows, expected 58"
echo '{"name": "Bad", "type": "STS", "data": "x", "settings": {"max_score": "5"}}' > "$TMP/tf/bad.json"
"$BIN" list --task-file "$TMP/tf/bad.json" > /dev/null 2> "$TMP/err.txt"
[ $? -eq 1 ] || fail "a bad task file did not exit 1"
grep -q "bad.json: task Bad: field 'settings.max_score': expected a number" "$TMP/err.txt" || fail "bad task file message: $(cat "$TMP/err.txt")"
"$BIN" list --task-file "$TMP/tf/none.json" > /dev/null 2> "$TMP/err.txt"
[ $? -eq 1 ] || fail "a missing task file did not exit 1"
grep -q 'none.json: cannot open' "$TMP/err.txt" || fail "missing task file message"

# --- the shared data, when present
if [ -n "${CMTEB_SHARED:-}" ] && [ -d "$CMTEB_SHARED/data/mteb" ]; then
    "$BIN" list --benchmark "MTEB(eng, v1)" --data-dir "$CMTEB_SHARED/data" > "$TMP/shared.txt" || fail "shared data exited $?"
    for t in STSBenchmark SICK-R Banking77Classification AmazonCounterfactualClassification SciFact; do
        [ "$(data_of "$TMP/shared.txt" $t)" = yes ] || fail "$t: data not found in $CMTEB_SHARED/data"
    done
    [ "$(rows "$TMP/shared.txt" | awk '$6 == "yes"' | wc -l)" -eq 5 ] || fail "shared data: not exactly 5 tasks with data"
else
    echo "note: \$CMTEB_SHARED/data absent, shared-data checks skipped"
fi

if [ $fails -ne 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi
echo "list.sh: all checks passed"
