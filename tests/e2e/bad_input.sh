#!/usr/bin/env bash
# bad_input.sh: bad files and options give one-line errors that name the file,
# line or field and what was expected, with the documented exit codes.
set -uo pipefail
out="$CMTEB_TMP/e2e_bad"
rm -rf "$out"; mkdir -p "$out/sts"
pass=0; fail=0
expect() { # expect CODE PATTERN -- command...
  local code=$1 pat=$2; shift 3
  local msg; msg=$("$@" 2>&1 >/dev/null); local rc=$?
  if [ $rc -eq "$code" ] && grep -qE -- "$pat" <<<"$msg"; then pass=$((pass+1));
  else fail=$((fail+1)); echo "FAIL: $* -> rc $rc (want $code), message: $msg (want /$pat/)"; fi
}
printf '{"sentence1": "a", "sentence2": "b", "score": 1}\n{"sentence1": "c", "sentence2": \n' > "$out/sts/test.jsonl"
cat > "$out/task.json" <<JSON
{"name": "BadSTS", "type": "STS", "data": "sts", "split": "test"}
JSON
expect 1 'sts/test.jsonl:2: invalid JSON' -- "$CMTEB_BIN" run --task-file "$out/task.json" --output "$out/r" --quiet
printf '{"sentence1": "a", "sentence2": "b", "score": "high"}\n' > "$out/sts/test.jsonl"
expect 1 "test.jsonl:1: field 'score': expected a number" -- "$CMTEB_BIN" run --task-file "$out/task.json" --output "$out/r" --quiet
printf '{"sentence1": "a", "score": 2}\n' > "$out/sts/test.jsonl"
expect 1 "test.jsonl:1: field 'sentence2': missing" -- "$CMTEB_BIN" run --task-file "$out/task.json" --output "$out/r" --quiet
rm "$out/sts/test.jsonl"; touch "$out/sts/test-00000-of-00001.parquet"
expect 1 'not a parquet file .expected the magic bytes PAR1' -- "$CMTEB_BIN" run --task-file "$out/task.json" --output "$out/r" --quiet
echo '{"name": "X", "type": "Nope", "data": "sts"}' > "$out/badtype.json"
expect 1 "badtype.json: task X: (field 'type': )?unknown task type 'Nope'" -- "$CMTEB_BIN" run --task-file "$out/badtype.json" --output "$out/r"
echo '{"name": "X", "type": "STS",' > "$out/badjson.json"
expect 1 'badjson.json:[0-9]+: invalid JSON' -- "$CMTEB_BIN" run --task-file "$out/badjson.json" --output "$out/r"
expect 1 "unknown task 'NoSuchTask'" -- "$CMTEB_BIN" run --tasks NoSuchTask --output "$out/r"
expect 2 "unknown option '--frobnicate'" -- "$CMTEB_BIN" run --frobnicate
expect 2 'say which tasks' -- "$CMTEB_BIN" run --model hash
expect 1 "unknown model spec 'bert9000'" -- "$CMTEB_BIN" run --model bert9000 --task-file "$out/task.json"
expect 1 'hash:DIM expects' -- "$CMTEB_BIN" run --model hash:3 --task-file "$out/task.json"
expect 1 'GloVe file not found' -- "$CMTEB_BIN" run --model glove:/nonexistent.txt --task-file "$out/task.json"
# precomputed: NaN, wrong dtype, missing texts
mkdir -p "$out/pre" "$out/sts2"
printf '{"sentence1": "hello world", "sentence2": "good bye", "score": 1}\n{"sentence1": "x", "sentence2": "y", "score": 3}\n{"sentence1": "p", "sentence2": "q", "score": 2}\n' > "$out/sts2/test.jsonl"
echo '{"name": "PreSTS", "type": "STS", "data": "sts2", "split": "test"}' > "$out/task2.json"
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  printf '{"text": "hello world"}\n{"text": "good bye"}\n' > "$out/pre/texts.jsonl"
  # NaN/Inf are found when a task reads the row (not at open): the NaN is in the row of the first text read
  /usr/bin/python3 -c "import numpy as np; a=np.ones((2,4),np.float32); a[0,2]=np.nan; np.save('$out/pre/embeddings.npy', a)"
  expect 1 'embeddings.npy: value 2 is NaN \(row 0, column 2' -- "$CMTEB_BIN" run --model "precomputed:$out/pre" --task-file "$out/task2.json" --output "$out/r" --quiet
  /usr/bin/python3 -c "import numpy as np; np.save('$out/pre/embeddings.npy', np.ones((2,4),np.int64))"
  expect 1 "dtype .*not supported \(expected little-endian float32" -- "$CMTEB_BIN" run --model "precomputed:$out/pre" --task-file "$out/task2.json" --output "$out/r" --quiet
  /usr/bin/python3 -c "import numpy as np; np.save('$out/pre/embeddings.npy', np.ones((2,4),np.float16))"
  expect 1 '4 of 6 requested query texts are not in texts.jsonl, e.g. "x"|2 of 3 requested' -- "$CMTEB_BIN" run --model "precomputed:$out/pre" --task-file "$out/task2.json" --output "$out/r" --quiet --no-cache
  /usr/bin/python3 -c "import numpy as np; np.save('$out/pre/embeddings.npy', np.ones((3,4),np.float32))"
  expect 1 'texts.jsonl has 2 texts but .*embeddings.npy has 3 rows' -- "$CMTEB_BIN" run --model "precomputed:$out/pre" --task-file "$out/task2.json" --output "$out/r" --quiet
  # the same text twice with different vectors is ambiguous; with the same vector it is fine
  printf '{"text": "a"}\n{"text": "b"}\n{"text": "a"}\n' > "$out/pre/texts.jsonl"
  /usr/bin/python3 -c "import numpy as np; np.save('$out/pre/embeddings.npy', np.array([[1,0],[0,1],[.6,.8]],np.float32))"
  printf 'a\nb\n' > "$out/pre/in.txt"
  expect 1 'texts 1 and 3 are the same text but rows 0 and 2 of .*embeddings.npy differ' -- \
    "$CMTEB_BIN" embed --model "precomputed:$out/pre" --input "$out/pre/in.txt" --output "$out/pre/o.npy" --quiet
  /usr/bin/python3 -c "import numpy as np; np.save('$out/pre/embeddings.npy', np.array([[1,0],[0,1],[1,0]],np.float32))"
  expect 0 '' -- "$CMTEB_BIN" embed --model "precomputed:$out/pre" --input "$out/pre/in.txt" --output "$out/pre/o.npy" --quiet
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
