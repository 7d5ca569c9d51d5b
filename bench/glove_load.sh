#!/usr/bin/env bash
# glove_load.sh BUILD_DIR: time to load a GloVe-6B-300d-sized file (400,000 words
# x 300 dims, synthetic values, 1.1 GB of text) through `--model glove:PATH`:
# the first load converts to the binary cache, later loads map it. Side by side
# with what sentence-transformers' WordEmbeddings.from_text_file does (Python
# loop: split each line, np.array of floats), run on the same file.
set -euo pipefail
build="${1:-build}"
work="${TMPDIR:-/tmp}/cmteb-glove-bench"
mkdir -p "$work"
txt="$work/glove.400k.300d.txt"
if [ ! -s "$txt" ]; then
  /usr/bin/python3 - "$txt" <<'PY'
import sys, numpy as np
rng = np.random.RandomState(0)
with open(sys.argv[1], "w") as f:
    for i in range(400000):
        v = rng.randn(300).astype(np.float32)
        f.write("w%d " % i + " ".join("%.5f" % x for x in v) + "\n")
PY
fi
rm -f "$txt.cmteb.bin"
mkdir -p "$work/sts"
printf '{"sentence1": "w1 w2", "sentence2": "w3 w4", "score": 1}\n{"sentence1": "w5", "sentence2": "w6 w7", "score": 2}\n{"sentence1": "w8", "sentence2": "w9", "score": 3}\n' > "$work/sts/test.jsonl"
echo '{"name": "Tiny", "type": "STS", "data": "sts", "split": "test"}' > "$work/task.json"
t0=$(date +%s.%N)
"$build/cmteb" run --model "glove:$txt" --task-file "$work/task.json" --output "$work/out1" --no-cache --quiet > /dev/null
t1=$(date +%s.%N)
"$build/cmteb" run --model "glove:$txt" --task-file "$work/task.json" --output "$work/out2" --no-cache --quiet > /dev/null
t2=$(date +%s.%N)
/usr/bin/python3 - "$txt" <<'PY' > "$work/py.txt"
import sys, time, numpy as np
t = time.time()
vocab, emb = [], []
with open(sys.argv[1], encoding="utf8") as f:
    for line in f:
        s = line.rstrip().split(" ")
        vocab.append(s[0]); emb.append(np.array([float(x) for x in s[1:]]))
emb = np.asarray(emb)
print(time.time() - t)
PY
py=$(cat "$work/py.txt")
awk -v a="$t0" -v b="$t1" -v c="$t2" -v p="$py" 'BEGIN {
  printf "first load (convert + run): %.2f s\nlater loads (mapped binary + run): %.2f s\nPython from_text_file loop: %.2f s\n", b-a, c-b, p;
  printf "ratio Python / cmteb first load: %.1fx; Python / cmteb later loads: %.0fx\n", p/(b-a), p/(c-b) }'
