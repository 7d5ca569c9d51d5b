#!/bin/bash
# hf_engine.sh: the native engine through the CLI: cmteb embed (jsonl and txt input, roles, prompts,
# pooling flags, errors), cmteb tokenize (ids and pieces equal HF tokenizers' for a known text), cmteb info
# (config-derived sizes with and without weights), unsupported architectures, and cmteb run on STSBenchmark
# with a random-weight fixture model (skipped when ../shared/data is absent).
set -u
B="$CMTEB_BIN"
F="$CMTEB_SRC/tests/fixtures/hf"
T="$CMTEB_TMP/hf_engine"
rm -rf "$T" && mkdir -p "$T"
fail=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }
expect() { if eval "$2"; then ok; else bad "$1"; fi; }

# --- embed ---
printf '{"text": "A man is playing a guitar."}\n{"text": "hello"}\n{"text": "A man is playing a guitar."}\n' > "$T/in.jsonl"
printf 'A man is playing a guitar.\nhello\nA man is playing a guitar.\n' > "$T/in.txt"
"$B" embed --model "hf:$F/bert-tiny" --input "$T/in.jsonl" --output "$T/a.npy" --quiet
expect "embed jsonl exit" '[ $? -eq 0 ]'
expect "npy shape (3, 64)" "head -c 128 '$T/a.npy' | grep -aq \"'shape': (3, 64)\""
"$B" embed --model "hf:$F/bert-tiny" --input "$T/in.txt" --output "$T/b.npy" --quiet
expect "txt input gives the same bytes as jsonl" "cmp -s '$T/a.npy' '$T/b.npy'"
"$B" embed --model "hf:$F/bert-tiny" --input "$T/in.txt" --output "$T/b1.npy" --quiet --threads 1 --batch-size 1
expect "--threads 1 --batch-size 1" "head -c 128 '$T/b1.npy' | grep -aq \"'shape': (3, 64)\""
"$B" embed --model "hf:$F/bert-tiny" --input "$T/in.txt" --output "$T/q.npy" --quiet --role query
expect "query role (prompt 'query: ') differs from document" "! cmp -s '$T/a.npy' '$T/q.npy'"
"$B" embed --model "hf:$F/bert-tiny" --input "$T/in.txt" --output "$T/c.npy" --quiet --pooling cls --no-normalize
expect "--pooling cls --no-normalize differs" "! cmp -s '$T/a.npy' '$T/c.npy'"
"$B" embed --model hash:32 --input "$T/in.jsonl" --output "$T/h.npy" --quiet
expect "embed works with any backend (hash:32)" "head -c 128 '$T/h.npy' | grep -aq \"'shape': (3, 32)\""
out=$("$B" embed --model "hf:$F/bert-tiny" --input "$T/in.txt" --output "$T/x.npy" --pooling median 2>&1)
expect "bad pooling is an error naming the choices" '[ $? -ne 0 ] && echo "$out" | grep -q "cls, mean, last, weightedmean, max"'
printf '{"txt": "x"}\n' > "$T/badfield.jsonl"
out=$("$B" embed --model "hf:$F/bert-tiny" --input "$T/badfield.jsonl" --output "$T/x.npy" 2>&1)
expect "missing text field names file:line and field" '[ $? -ne 0 ] && echo "$out" | grep -q "badfield.jsonl:1" && echo "$out" | grep -q "text"'
out=$("$B" embed --model "hf:$T/nowhere" --input "$T/in.txt" --output "$T/x.npy" 2>&1)
expect "missing model folder" '[ $? -ne 0 ] && echo "$out" | grep -q "not found"'
mkdir -p "$T/neox" && echo '{"model_type": "gpt_neox", "architectures": ["GPTNeoXForCausalLM"]}' > "$T/neox/config.json"
out=$("$B" embed --model "hf:$T/neox" --input "$T/in.txt" --output "$T/x.npy" 2>&1)
expect "unsupported architecture is named" '[ $? -ne 0 ] && echo "$out" | grep -q "gpt_neox" && echo "$out" | grep -q "GPTNeoXForCausalLM" && echo "$out" | grep -q "supported"'

# --- tokenize: ids from HF tokenizers (bert-base-uncased vocabulary) ---
out=$("$B" tokenize --model "hf:$F/bert-uncased-tok/tokenizer.json.gz" "Hello, naïve world! 中文")
expect "tokenize ids+pieces" '[ "$out" = "$(printf "101 7592 1010 15743 2088 999 1746 1861 102\t[CLS] hello , naive world ! 中 文 [SEP]")" ]'
out=$(printf 'a b\nhello\n' | "$B" tokenize --model "hf:$F/bert-tiny" --json --no-special | wc -l)
expect "tokenize stdin lines, --json" '[ "$out" -eq 2 ]'

# --- info ---
out=$("$B" info --model "hf:$F/roberta-tiny")
expect "info sizes" 'echo "$out" | grep -q "^layers *2" && echo "$out" | grep -q "^hidden *64" && echo "$out" | grep -q "F16: "'
out=$("$B" info --model "hf:$F/bert-tiny-bf16" --no-weights --json)
expect "info --no-weights --json" 'echo "$out" | grep -q "\"parameters\"" && ! echo "$out" | grep -q weights_file'

# --- run (needs shared data) ---
if [ -d "$CMTEB_SHARED/data/mteb/stsbenchmark-sts" ]; then
  "$B" run --model "hf:$F/bert-tiny" --tasks STSBenchmark --data-dir "$CMTEB_SHARED/data" --output "$T/results" > "$T/run.log" 2>&1
  expect "cmteb run STSBenchmark with hf:bert-tiny" '[ $? -eq 0 ] && [ -f "$T/results/cmteb-fixtures__bert-tiny/no_revision_available/STSBenchmark.json" ]'
  expect "model_meta names the hf loader" 'grep -q "\"embed_dim\": *64" "$T/results/cmteb-fixtures__bert-tiny/no_revision_available/model_meta.json"'
else
  echo "note: $CMTEB_SHARED/data absent; cmteb run part skipped"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
