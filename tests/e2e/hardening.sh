#!/usr/bin/env bash
# hardening.sh (issue #16): inputs that used to be accepted silently. A baseline
# results file that is not a results object, is a folder or a symlink loop is
# an error naming it (not a "new" task that hides a drop); an unreadable
# per-item file is warned about and the difference reported as not tested;
# task files must be regular files of bounded size; gzip with trailing garbage
# is an error naming the file; a 10 MB text hashes in bounded memory.
set -uo pipefail
fix="$CMTEB_SRC/tests/fixtures/results/check/baseline"
out="$CMTEB_TMP/e2e_hardening"
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
lacks() { grep -qF -- "$2" "$out/$1.txt" && bad "$1 has: $2" || ok; }
C="$CMTEB_BIN check"
m=cmteb-test__tiny-model/1
# A candidate whose SciFact score fell 35 points.
cp -r "$fix" "$out/cand"
f="$out/cand/$m/SciFact.json"
v=$(grep -o '"main_score": [0-9.]*' "$f" | awk '{print $2}')
nv=$(awk -v v="$v" 'BEGIN{printf "%.5f", v-0.35}')
sed -i "s/$v/$nv/g" "$f"
for k in array folder loop object; do
  cp -r "$fix" "$out/base_$k"; rm "$out/base_$k/$m/SciFact.json"
done
echo '[1,2,3]' > "$out/base_array/$m/SciFact.json"
mkdir "$out/base_folder/$m/SciFact.json"
ln -s SciFact.json "$out/base_loop/$m/SciFact.json"
echo '{"comment": 1}' > "$out/base_object/$m/SciFact.json"
for k in array folder loop object; do
  run 1 "base_$k" -- $C --baseline "$out/base_$k" --candidate "$out/cand"
  has "base_$k" "SciFact.json"
  lacks "base_$k" "| new |"
done
has base_array "not an MTEB results object"
has base_folder "is a folder"
has base_loop "symbolic links"
# The same broken files in the candidate: an error too, never "missing" quietly.
run 1 cand_array -- $C --baseline "$fix" --candidate "$out/base_array"
has cand_array "SciFact.json: not an MTEB results object"
run 1 report_array -- $CMTEB_BIN report "$out/base_array"
has report_array "SciFact.json"
# A corrupt per-item file: a warning naming it; the table says the test did not run.
cp -r "$fix" "$out/items"
echo '{"kind": ' > "$out/items/$m/.cmteb/SciFact.items.json"
run 0 items -- $C --baseline "$fix" --candidate "$out/items"
has items "SciFact.items.json"
has items "Note: SciFact: difference not tested: per-item data unreadable"
run 0 items_report -- $CMTEB_BIN report --compare "$fix" "$out/items"
has items_report "difference not tested: per-item data unreadable"
# Task files: not a regular file, too large.
run 1 taskzero -- timeout 20 $CMTEB_BIN list --task-file /dev/zero
has taskzero "/dev/zero: not a regular file"
# A binary --input for embed (plain-text path) stops at the first NUL, not at the size cap.
run 1 embedzero -- timeout 20 $CMTEB_BIN embed --model hash --input /dev/zero --output "$out/z.npy"
has embedzero "/dev/zero: byte 0 is NUL: expected text"
truncate -s 65M "$out/huge.json"
run 1 taskhuge -- $CMTEB_BIN list --task-file "$out/huge.json"
has taskhuge "huge.json: 68157440 bytes, more than the 64 MiB"
# gzip with trailing garbage, streamed (jsonl) and read whole (txt).
printf '{"text": "a"}\n{"text": "b"}\n' > "$out/t.jsonl"; gzip -kf "$out/t.jsonl"
printf 'hello\nworld\n' > "$out/t.txt"; gzip -kf "$out/t.txt"
cat "$out/t.jsonl.gz" "$out/t.jsonl.gz" > "$out/two.jsonl.gz"   # two members: valid
run 0 gz_ok -- $CMTEB_BIN embed --model hash --input "$out/t.jsonl.gz" --output "$out/o.npy"
run 0 gz_two -- $CMTEB_BIN embed --model hash --input "$out/two.jsonl.gz" --output "$out/o.npy"
has gz_two "4 texts"
printf 'GARBAGE' >> "$out/t.jsonl.gz"; printf 'x' >> "$out/t.txt.gz"; printf '\n' >> "$out/two.jsonl.gz"
for k in t.jsonl t.txt two.jsonl; do
  run 1 "gz_$k" -- $CMTEB_BIN embed --model hash --input "$out/$k.gz" --output "$out/o.npy"
  has "gz_$k" "$k.gz: trailing garbage after the gzip data"
done
# One 10 MB text: the hash backend used ~136 bytes per input byte (2.1 GB); now
# well under 1 GB of address space.
awk 'BEGIN{srand(1); for(i=0;i<900000;i++) printf "w%d ", int(rand()*100000); print ""}' > "$out/big.txt"
# (ASan reserves terabytes of shadow address space, so the sanitizer build runs it without the cap)
cap="ulimit -v 1000000;"
case "$(ldd "$CMTEB_BIN" 2>/dev/null)" in *libasan*) cap="" ;; esac
run 0 bigtext -- bash -c "$cap OMP_NUM_THREADS=1 $CMTEB_BIN embed --model hash --threads 1 \
  --input $out/big.txt --output $out/big.npy"
# A small ulimit -v: the CPU engine refuses with the limit named (OpenBLAS would retry its buffer map forever).
if [ -n "$cap" ]; then
  run 1 ulimit_small -- timeout -k 5 60 bash -c "ulimit -v 400000; $CMTEB_BIN run --model \
    hf:$CMTEB_SRC/tests/fixtures/hf/bert-tiny --threads 2 --tasks DemoSTS --output $out/ulim"
  has ulimit_small "address-space limit (ulimit -v 400000 kB)"
  # smaller still: the error, then no hang in OpenBLAS's exit handler (timeout would give 124/137)
  run 1 ulimit_tiny -- timeout -k 5 60 bash -c "ulimit -v 160000; $CMTEB_BIN run --model \
    hf:$CMTEB_SRC/tests/fixtures/hf/bert-tiny --threads 2 --tasks DemoSTS --output $out/ulim2"
  has ulimit_tiny "address-space limit (ulimit -v 160000 kB)"
fi
# Duplicate keys: an error in a task file, a warning in a results file.
mkdir -p "$out/ret"; cp -r "$CMTEB_SRC/datasets/demo/retrieval" "$out/ret/data"
cat > "$out/ret/dup.json" <<'JSON'
{"name": "DupTask", "type": "Retrieval", "data": "data", "split": "test", "split": "dev", "main_score": "ndcg_at_10"}
JSON
run 1 dupkey -- $CMTEB_BIN list --task-file "$out/ret/dup.json"
has dupkey "dup.json: duplicate key 'split'"
cp -r "$fix" "$out/dupres"
sed -i '0,/"task_name"/s//"task_name": "SciFact", "task_name"/' "$out/dupres/$m/SciFact.json"
run 0 dupres -- $C --baseline "$out/dupres" --candidate "$fix"
has dupres "SciFact.json: duplicate key 'task_name'"
# An empty corpus: an error naming it, not nDCG 0.
cat > "$out/ret/empty.json" <<'JSON'
{"name": "EmptyCorpus", "type": "Retrieval", "data": "data", "split": "test", "main_score": "ndcg_at_10"}
JSON
: > "$out/ret/data/corpus.jsonl"
run 1 emptycorpus -- $CMTEB_BIN run --model hash --task-file "$out/ret/empty.json" --tasks EmptyCorpus \
  --output "$out/ret/out" --no-cache --quiet
has emptycorpus "corpus.jsonl: empty corpus"
# Invalid UTF-8 in texts: one warning per file, with the first line.
printf '{"text": "ok"}\n{"text": "bad \xff"}\n{"text": "bad \xc3"}\n' > "$out/u.jsonl"
run 0 utf8 -- $CMTEB_BIN embed --model hash --input "$out/u.jsonl" --output "$out/o.npy"
has utf8 "u.jsonl:2: invalid UTF-8"
[ "$(grep -c 'invalid UTF-8' "$out/utf8.txt")" -eq 1 ] && ok || bad "utf8: one warning per file"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
