#!/usr/bin/env bash
# robust_inputs.sh (issue #16): names never leave the output folder,
# degenerate metrics are JSON null, control bytes are escaped on the terminal,
# temporaries of killed runs are removed and SIGINT at startup is graceful,
# absurd config.json sizes are refused, U+0000 in a text is an error.
set -uo pipefail
out="$CMTEB_TMP/e2e_robust_inputs"
rm -rf "$out"; mkdir -p "$out"
pass=0; fail=0
ok() { pass=$((pass+1)); }
no() { fail=$((fail+1)); echo "FAIL: $*"; }
expect() { # expect CODE PATTERN -- command...
  local code=$1 pat=$2; shift 3
  local msg; msg=$("$@" 2>&1 >/dev/null); local rc=$?
  if [ $rc -eq "$code" ] && grep -qE -- "$pat" <<<"$msg"; then ok;
  else no "$* -> rc $rc (want $code), message: $msg (want /$pat/)"; fi
}
# ---- 1. names that become paths ------------------------------------------
mkdir -p "$out/d/ret/qrels"
printf '{"_id": "d1", "title": "", "text": "apple pie"}\n{"_id": "d2", "title": "", "text": "zebra"}\n' \
  > "$out/d/ret/corpus.jsonl"
printf '{"_id": "q1", "text": "apple"}\n' > "$out/d/ret/queries.jsonl"
printf 'query-id\tcorpus-id\tscore\nq1\td1\t1\n' > "$out/d/ret/qrels/test.tsv"
esc="$out/escape"; mkdir -p "$esc"
for field in name split subset; do
  case $field in
    name) j="\"name\": \"../../../../../../escape/PWNED\", \"split\": \"test\"";;
    split) j="\"name\": \"T1\", \"split\": \"../escape/x\"";;
    subset) j="\"name\": \"T1\", \"split\": \"test\", \"subset\": \"..\"";;
  esac
  echo "{$j, \"type\": \"Retrieval\", \"data\": \"d/ret\"}" > "$out/t_$field.json"
  expect 1 "t_$field.json: task .*field '$field': .* must be a single path component" -- \
    "$CMTEB_BIN" run --task-file "$out/t_$field.json" --output "$out/r1/a/b" --save-predictions --quiet
done
echo '{"name": "T1", "type": "Retrieval", "data": "d/ret", "settings": {"subsets": ["ok", "x/.."]}}' > "$out/t_sub.json"
expect 1 "field 'settings.subsets': 'x/\.\.' must end in a folder name" -- \
  "$CMTEB_BIN" run --task-file "$out/t_sub.json" --output "$out/r1" --quiet
printf '{"name": "T\\u001b[31m", "type": "Retrieval", "data": "d/ret"}' > "$out/t_ctl.json"
expect 1 "field 'name': 'T\\\\x1b\[31m' contains a control character" -- \
  "$CMTEB_BIN" run --task-file "$out/t_ctl.json" --output "$out/r1" --quiet
# model names are cleaned into one component
echo '{"name": "T1", "type": "Retrieval", "data": "d/ret"}' > "$out/t_ok.json"
for mn in "../../../escape/M" ".." "/abs/olute" "a/../../b"; do
  "$CMTEB_BIN" run --task-file "$out/t_ok.json" --model-name "$mn" --output "$out/r2/a/b" --save-predictions \
    --quiet >/dev/null 2>&1 || no "run with --model-name $mn failed"
done
outside=$(find "$out" -path "$out/r2" -prune -o -type f -newer "$out/t_ok.json" -print)
[ -z "$outside" ] && ok || no "files written outside --output: $outside"
n_res=$(find "$out/r2/a/b" -name T1.json | wc -l)
[ "$n_res" -eq 4 ] && ok || no "want 4 result files under --output, found $n_res"
[ -z "$(ls -A "$esc")" ] && ok || no "files in $esc: $(ls -A "$esc")"
# ---- 2. degenerate metrics: null in the JSON, the task failed with a reason -
mkdir -p "$out/deg/sts"
printf '{"sentence1": "a b", "sentence2": "b c", "score": 2}\n{"sentence1": "x y", "sentence2": "y z", "score": 2}\n' \
  > "$out/deg/sts/test.jsonl"
echo '{"name": "DegSTS", "type": "STS", "data": "sts"}' > "$out/deg/task.json"
msg=$("$CMTEB_BIN" run --task-file "$out/deg/task.json" --output "$out/deg/r" 2>&1); rc=$?
[ $rc -eq 1 ] && ok || no "degenerate STS: rc $rc, want 1"
grep -qE "warning: DegSTS: .*not finite, written as null: .*cosine_spearman" <<<"$msg" && ok || no "no warning: $msg"
grep -qE "DegSTS .*n/a NaN" <<<"$msg" && grep -q "main score cosine_spearman is NaN" <<<"$msg" && ok ||
  no "run table does not give the reason: $msg"
res=$(ls "$out"/deg/r/*/*/DegSTS.json 2>/dev/null)
if [ -n "$res" ] && /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1]),
    parse_constant=lambda c: sys.exit('non-JSON constant '+c)); assert d['scores']['test'][0]['main_score'] is None" \
    "$res"; then ok; else no "result file is not valid JSON with a null main_score: $res"; fi
expect 0 "" -- "$CMTEB_BIN" report "$out/deg/r"
"$CMTEB_BIN" report "$out/deg/r" 2>/dev/null | grep -q "DegSTS (no metric 'main_score'" && ok ||
  no "report: DegSTS not missing"
cp -r "$out/deg/r" "$out/deg/base"
msg=$("$CMTEB_BIN" check --baseline "$out/deg/base" --candidate "$out/deg/r" 2>&1)
grep -q "invalid JSON" <<<"$msg" && no "check: $msg" || ok
# ---- 5. config.json sizes and eps are checked when read ---------------------
cfgcase() { # cfgcase FIXTURE FIELD VALUE PATTERN
  local d="$out/cfg_$2_$RANDOM"; cp -r "$CMTEB_SRC/tests/fixtures/$1" "$d"
  /usr/bin/python3 - "$d/config.json" "$2" "$3" <<'PY'
import json, sys
p, k, v = sys.argv[1:]
c = json.load(open(p)); c[k] = json.loads(v)
if k == "hidden_size": c["num_attention_heads"] = 1
open(p, "w").write(json.dumps(c).replace("Infinity", "1e999"))
PY
  expect 1 "$4" -- "$CMTEB_BIN" info --model "hf:$d" --no-weights
}
cfgcase hf/bert-tiny hidden_size 1000000000000 "config.json: field 'hidden_size': 1000000000000 is outside"
cfgcase hf/bert-tiny vocab_size 100000000000 "config.json: field 'vocab_size': .* is outside"
cfgcase hf/bert-tiny num_hidden_layers 1000000 "config.json: field 'num_hidden_layers'"
cfgcase hf/bert-tiny max_position_embeddings 1000000000 "config.json: field 'max_position_embeddings'"
cfgcase hf/bert-tiny layer_norm_eps -1 "config.json: field 'layer_norm_eps': -1 is not a finite number"
cfgcase hf/bert-tiny layer_norm_eps Infinity "config.json: field 'layer_norm_eps': inf is not a finite number"
cfgcase dec/llama_tiny rms_norm_eps Infinity "config.json: field 'rms_norm_eps': expected a finite positive"
cfgcase dec/llama_tiny intermediate_size 100000000000 "config.json: field 'intermediate_size': .* is outside"
cfgcase dec/llama_tiny hidden_size 1e300 "config.json: field 'hidden_size'"
# ---- 3. control bytes from data and arguments are escaped on the terminal ---
mkdir -p "$out/esc/sts"
printf '{"sentence1": "a", "sentence2": "b", "score": "hi\\u001b]0;pwn\\u0007\\u009b"}\n' > "$out/esc/sts/test.jsonl"
echo '{"name": "EscSTS", "type": "STS", "data": "sts"}' > "$out/esc/task.json"
rawcheck() { # rawcheck WHAT PATTERN -- command...: no raw ESC/BEL/CSI in stdout+stderr, PATTERN present
  local what=$1 pat=$2; shift 3
  "$@" > "$out/esc/o.txt" 2>&1
  if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]\|\xc2[\x80-\x9f]' "$out/esc/o.txt"; then
    no "$what: raw control bytes on the terminal: $(od -c "$out/esc/o.txt" | head -20)"
  elif ! grep -qF -- "$pat" "$out/esc/o.txt"; then no "$what: want '$pat' in: $(cat "$out/esc/o.txt")"
  else ok; fi
}
rawcheck "log sink" 'hi\x1b]0;pwn\x07\xc2\x9b' -- \
  "$CMTEB_BIN" run --task-file "$out/esc/task.json" --output "$out/esc/r"
rawcheck "cm_cli_fail" "X\\x1b[31m" -- "$CMTEB_BIN" run --tasks $'X\e[31m' --output "$out/esc/r"
rawcheck "usage error" "\\x1b[2J" -- "$CMTEB_BIN" run $'--\e[2J'
# ---- 4. temporaries of killed runs are removed; SIGINT at startup is graceful -
sleep 0 & dead=$!; wait $dead   # a pid that no longer runs
mk="$out/r2/a/b/T1M/1"
"$CMTEB_BIN" run --task-file "$out/t_ok.json" --model-name T1M --output "$out/r2/a/b" --save-predictions --quiet \
  >/dev/null 2>&1 || no "run for the temporaries test failed"
seg=$(ls "$out"/r2/a/b/.cache/*/store/head | head -1)   # the embedding cache's vector store (commit record)
for f in "$mk/T1.json.tmp.$dead" "$mk/.cmteb/T1.items.json.tmp.$dead" "$mk/predictions/T1.test.trec.tmp.$dead" \
         "$seg.tmp.$dead" "$mk/model_meta.json.tmp.$$" "$mk/notes.tmp.txt"; do echo junk > "$f"; done
msg=$("$CMTEB_BIN" run --task-file "$out/t_ok.json" --model-name T1M --output "$out/r2/a/b" 2>&1)
left=$(find "$out/r2" -name "*.tmp.$dead")
[ -z "$left" ] && ok || no "stale temporaries left: $left"
[ -f "$mk/model_meta.json.tmp.$$" ] && [ -f "$mk/notes.tmp.txt" ] && ok || no "a live process's temporary was removed"
grep -q "removed 3 temporary file(s) left by killed runs" <<<"$msg" &&
  grep -q "removed 1 temporary file(s) left by killed runs" <<<"$msg" && ok || no "no INFO line: $msg"
if /usr/bin/python3 -c 1 2>/dev/null; then   # SIGINT while the model loads (before any task): a graceful stop
  /usr/bin/python3 - "$out/slow.txt" <<'PY'
import random, sys
r = random.Random(1)
with open(sys.argv[1], "w") as f:
    for i in range(100000): f.write("w%d " % i + " ".join("%.5f" % r.uniform(-1, 1) for _ in range(50)) + "\n")
PY
  set -m   # background jobs keep the default SIGINT disposition
  "$CMTEB_BIN" run --model "glove:$out/slow.txt" --task-file "$out/deg/task.json" --output "$out/sig" --no-cache \
    >/dev/null 2>"$out/sig.err" & p=$!
  sleep 0.15; kill -INT $p; wait $p; rc=$?
  set +m
  [ $rc -eq 130 ] && grep -q "cmteb run: interrupted" "$out/sig.err" && ok ||
    no "SIGINT during model loading: rc $rc, stderr: $(cat "$out/sig.err") (want a graceful stop)"
fi
# ---- 6. U+0000 in a text is an error, not a cut ---------------------------
mkdir -p "$out/nul/sts" "$out/nul/ret/qrels"
printf '%s\n' '{"sentence1": "apple\\u0000pie", "sentence2": "pie", "score": 1}' \
  '{"sentence1": "red car", "sentence2": "a car", "score": 4}' \
  > "$out/nul/sts/test.jsonl"   # an escaped backslash before u0000: plain text, fine
printf '{"sentence1": "blue sky", "sentence2": "the sky", "score": 3}\n' >> "$out/nul/sts/test.jsonl"
echo '{"name": "NulSTS", "type": "STS", "data": "sts"}' > "$out/nul/task.json"
expect 0 "" -- "$CMTEB_BIN" run --task-file "$out/nul/task.json" --output "$out/nul/r" --quiet
printf '{"sentence2": "b", "sentence1": "apple pie\\u0000 zebra", "score": 2}\n' >> "$out/nul/sts/test.jsonl"
expect 1 "sts/test.jsonl:4: field 'sentence1': contains U\+0000 \(NUL\)" -- \
  "$CMTEB_BIN" run --task-file "$out/nul/task.json" --output "$out/nul/r" --quiet --overwrite
cp "$out"/d/ret/queries.jsonl "$out/nul/ret/"; cp "$out"/d/ret/qrels/test.tsv "$out/nul/ret/qrels/"
printf '{"_id": "d1", "title": "", "text": "apple pie\\u0000 zebra"}\n' > "$out/nul/ret/corpus.jsonl"
echo '{"name": "NulRet", "type": "Retrieval", "data": "ret"}' > "$out/nul/task2.json"
expect 1 "corpus.jsonl:1: field 'text': contains U\+0000" -- \
  "$CMTEB_BIN" run --task-file "$out/nul/task2.json" --output "$out/nul/r" --quiet
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
