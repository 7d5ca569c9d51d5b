#!/usr/bin/env bash
# fetch_mock.sh: cmteb fetch against a local mock hub (tests/mock/hub_server.py on 127.0.0.1, never the
# internet): a fresh fetch of a real catalog task (STSBenchmark, its repository assembled from
# $CMTEB_SHARED/data) that `cmteb run` then uses with no extra flag (same score as the shared copy, the
# commit recorded), listing pagination, only the split's files, a second fetch with no request, resume
# after a dropped connection (a Range request), a corrupted body (retried once, then a clear error), 429
# with Retry-After and 500s retried, a gated repository (clear error without a token; with one, the token
# never sent to the CDN host), HF_HUB_OFFLINE=1 (no request, the missing files named), and a
# huggingface_hub cache read in place.
set -euo pipefail
command -v /usr/bin/python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
out="$CMTEB_TMP/e2e_fetch_mock"
rm -rf "$out"; mkdir -p "$out/repo" "$out/w" "$out/hfhome"
export HF_HUB_CACHE="$out/hfcache" HF_HOME="$out/hfhome"
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HF_HUB_OFFLINE HF_ENDPOINT CMTEB_DATA_DIR
py=/usr/bin/python3
sts="$CMTEB_SHARED/data/mteb/stsbenchmark-sts"
have_sts=0; [ -f "$sts/test.jsonl.gz" ] && have_sts=1
[ $have_sts = 1 ] || echo "note: $sts absent: the real-task part is skipped"

# the repositories the mock serves, and a task file per fake repository
$py - "$out" "$CMTEB_SRC" "$sts" $have_sts <<'PY'
import json, os, random, sys, hashlib
out, src, sts, have_sts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
def commit(seed): return hashlib.sha1(seed.encode()).hexdigest()
def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "wb").write(data)
random.seed(7)
def sts_rows(n):
    words = "a cat dog runs fast slow red blue sky sea man woman child plays reads eats".split()
    s = lambda: " ".join(random.choice(words) for _ in range(random.randint(3, 12)))
    return "".join(json.dumps({"sentence1": s(), "sentence2": s(), "score": random.randint(0, 50) / 10}) + "\n"
                   for _ in range(n)).encode()
repos, tasks = {}, {}
def fake(name, files, lfs=(), **kw):
    c = commit(name)
    fl = {}
    for p, data in files.items():
        local = f"{out}/repo/{name}/{p}"
        write(local, data)
        fl[p] = local
    repos[name] = dict(commit=c, files=fl, lfs=list(lfs), **kw)
    tasks[name] = {"name": "T_" + name.split("/")[1], "type": "STS", "split": "test",
                   "dataset": {"path": name, "revision": c}}
fake("test/resume", {"data/test-00000-of-00001.jsonl": sts_rows(30000), "README.md": b"# resume\n",
                     "data/train-00000-of-00001.jsonl": sts_rows(10)}, lfs=["data/test-00000-of-00001.jsonl"],
     faults={"data/test-00000-of-00001.jsonl": {"drop": 1}})
fake("test/corrupt", {"test.jsonl": sts_rows(50)}, faults={"test.jsonl": {"corrupt": 99}})
fake("test/flaky", {"test.jsonl": sts_rows(50)},
     faults={"test.jsonl": {"status": [429, 500, 500], "retry_after": "1"}})
fake("test/gated", {"test.jsonl.gz": open(f"{sts}/test.jsonl.gz", "rb").read() if have_sts else sts_rows(20)},
     lfs=["test.jsonl.gz"], gated=True)
if have_sts:
    cat = json.load(open(f"{src}/datasets/catalog/mteb_eng_v1.json"))
    t = next(t for t in cat if t["name"] == "STSBenchmark")
    rev = t["dataset"]["revision"]
    c = rev if len(rev) == 40 else (rev + commit("sts"))[:40]
    fl = {p: f"{sts}/{p}" for p in ["test.jsonl.gz", "validation.jsonl.gz", "original/sts-test.csv",
                                    "original/readme.txt"]}
    repos["mteb/stsbenchmark-sts"] = dict(commit=c, files=fl, lfs=["test.jsonl.gz", "validation.jsonl.gz"])
    open(f"{out}/sts_commit", "w").write(c)
for name, t in tasks.items():
    json.dump(t, open(f"{out}/task_{name.split('/')[1]}.json", "w"))
json.dump({"repos": repos, "token": "hf_mock_token", "page_size": 2, "max_requests": 400, "max_seconds": 240},
          open(f"{out}/config.json", "w"))
PY
$py "$CMTEB_SRC/tests/mock/hub_server.py" "$out/config.json" "$out/ports" "$out/log.jsonl" &
srv=$!
trap 'kill $srv 2>/dev/null || true' EXIT
for i in $(seq 1 100); do [ -s "$out/ports" ] && break; sleep 0.1; done
read -r hub cdn < "$out/ports"
export HF_ENDPOINT="http://127.0.0.1:$hub"
fail() { echo "FAIL: $*"; exit 1; }
nreq() { [ -f "$out/log.jsonl" ] && wc -l < "$out/log.jsonl" || echo 0; }
q() { $py -c "import json,sys; L=[json.loads(l) for l in open('$out/log.jsonl')]; $1"; }

# ---- a real catalog task: fetch, then run with no extra flag --------------------------------------
if [ $have_sts = 1 ]; then
  c=$(cat "$out/sts_commit")
  (cd "$out/w" && "$CMTEB_BIN" fetch --tasks STSBenchmark --quiet > "$out/f1.txt")
  grep -q "1 downloaded" "$out/f1.txt" || fail "first fetch: $(cat "$out/f1.txt")"
  d="$out/w/data/mteb/stsbenchmark-sts"
  test -f "$d/test.jsonl.gz" || fail "test split not fetched"
  [ ! -e "$d/validation.jsonl.gz" ] && [ ! -e "$d/original" ] || fail "files the task does not read were fetched"
  cmp -s "$d/test.jsonl.gz" "$sts/test.jsonl.gz" || fail "content differs"
  head -1 "$d/.cache/huggingface/download/test.jsonl.gz.metadata" | grep -qx "$c" || fail "metadata commit"
  q "assert sum(1 for e in L if '/tree/' in e['path']) >= 3, 'listing not paginated'"
  q "assert any(e['server']=='cdn' for e in L), 'LFS redirect to the CDN not followed'"
  n0=$(nreq)
  (cd "$out/w" && "$CMTEB_BIN" fetch --tasks STSBenchmark --quiet > "$out/f2.txt")
  grep -q "1 already there, 0 downloaded" "$out/f2.txt" || fail "second fetch: $(cat "$out/f2.txt")"
  [ "$(nreq)" = "$n0" ] || fail "second fetch made $(( $(nreq) - n0 )) request(s)"
  (cd "$out/w" && "$CMTEB_BIN" run --model hash --tasks STSBenchmark --output "$out/r1" --quiet >/dev/null)
  "$CMTEB_BIN" run --model hash --tasks STSBenchmark --data-dir "$CMTEB_SHARED/data" --output "$out/r2" --quiet >/dev/null
  $py - "$out" "$c" <<'PY'
import glob, json, sys
out, c = sys.argv[1], sys.argv[2]
a = json.load(open(glob.glob(f"{out}/r1/*/*/STSBenchmark.json")[0]))
b = json.load(open(glob.glob(f"{out}/r2/*/*/STSBenchmark.json")[0]))
assert a["scores"]["test"][0]["main_score"] == b["scores"]["test"][0]["main_score"], "scores differ"
assert a["cmteb"]["dataset_commit"] == c, a["cmteb"].get("dataset_commit")
PY
  # `cmteb run --fetch` into a fresh folder
  "$CMTEB_BIN" run --fetch --model hash --tasks STSBenchmark --data-dir "$out/w2" --output "$out/r3" --quiet >/dev/null
  test -f "$out/w2/mteb/stsbenchmark-sts/test.jsonl.gz" || fail "run --fetch did not fetch"
fi

# ---- resume after a dropped connection --------------------------------------------------------------
"$CMTEB_BIN" fetch --task-file "$out/task_resume.json" --data-dir "$out/d" --quiet > "$out/f3.txt" 2> "$out/e3.txt" \
  || fail "resume: $(cat "$out/e3.txt")"
cmp -s "$out/d/test/resume/data/test-00000-of-00001.jsonl" "$out/repo/test/resume/data/test-00000-of-00001.jsonl" \
  || fail "resumed file differs"
[ ! -e "$out/d/test/resume/data/train-00000-of-00001.jsonl" ] || fail "train split fetched for an STS task"
q "
d=[e for e in L if e.get('dropped_after')]
assert d, 'no drop happened'
assert any(e['server']=='cdn' and e['range']=='bytes=%d-' % d[0]['dropped_after'] and e['status']==206 for e in L), \
  'no Range request resumed the drop'"

# ---- a corrupted body: retried once, then a clear error ---------------------------------------------
if "$CMTEB_BIN" fetch --task-file "$out/task_corrupt.json" --data-dir "$out/d" --quiet > /dev/null 2> "$out/e4.txt"; then
  fail "corrupt body accepted"
fi
grep -q "git blob id" "$out/e4.txt" && grep -q "corrupt twice" "$out/e4.txt" || fail "corrupt: $(cat "$out/e4.txt")"
q "assert sum(1 for e in L if e['path'].endswith('/test.jsonl') and 'test/corrupt' in e['path']) == 2"
[ ! -e "$out/d/test/corrupt/test.jsonl" ] || fail "corrupt file kept"
[ -z "$(find "$out/d/test/corrupt" -name '*.incomplete')" ] || fail "corrupt partial kept"

# ---- 429 with Retry-After, then 500s ------------------------------------------------------------------
"$CMTEB_BIN" fetch --task-file "$out/task_flaky.json" --data-dir "$out/d" > /dev/null 2> "$out/e5.txt" \
  || fail "flaky: $(cat "$out/e5.txt")"
grep -q "Retry-After" "$out/e5.txt" || fail "no Retry-After message: $(cat "$out/e5.txt")"
q "
g=[e for e in L if 'test/flaky/resolve' in e['path']]
assert [e['status'] for e in g] == [429, 500, 500, 200], [e['status'] for e in g]
assert g[1]['t'] - g[0]['t'] >= 0.95, 'Retry-After not honoured: %.2f s' % (g[1]['t'] - g[0]['t'])"

# ---- a gated repository ---------------------------------------------------------------------------
if "$CMTEB_BIN" fetch --task-file "$out/task_gated.json" --data-dir "$out/d" --quiet >/dev/null 2> "$out/e6.txt"; then
  fail "gated repo fetched without a token"
fi
grep -q "needs HF_TOKEN" "$out/e6.txt" || fail "gated: $(cat "$out/e6.txt")"
HF_TOKEN=hf_mock_token "$CMTEB_BIN" fetch --task-file "$out/task_gated.json" --data-dir "$out/d" --quiet >/dev/null \
  2> "$out/e7.txt" || fail "gated with token: $(cat "$out/e7.txt")"
q "
h=[e for e in L if e['server']=='hub' and 'test/gated' in e['path'] and e['status'] in (200, 302)]
c=[e for e in L if e['server']=='cdn' and 'repo=test/gated' in e['path']]
assert h and all(e['auth'] for e in h), 'token not sent to the hub'
assert c and not any(e['auth'] for e in c), 'token forwarded to the CDN host'"
echo "$HF_HOME" > /dev/null
printf 'hf_mock_token\n' > "$out/hfhome/token"   # $HF_HOME/token is read too
rm -rf "$out/d/test/gated"
"$CMTEB_BIN" fetch --task-file "$out/task_gated.json" --data-dir "$out/d" --quiet >/dev/null 2> "$out/e8.txt" \
  || fail "gated with \$HF_HOME/token: $(cat "$out/e8.txt")"
rm -f "$out/hfhome/token"

# ---- offline: no request, the missing files named -------------------------------------------------
rm -f "$out/d/test/resume/data/test-00000-of-00001.jsonl"
n0=$(nreq)
if HF_HUB_OFFLINE=1 "$CMTEB_BIN" fetch --task-file "$out/task_resume.json" --task-file "$out/task_flaky.json" \
     --data-dir "$out/d" --quiet > /dev/null 2> "$out/e9.txt"; then fail "offline with a missing file succeeded"; fi
grep -q "data/test-00000-of-00001.jsonl" "$out/e9.txt" && grep -q "HF_HUB_OFFLINE" "$out/e9.txt" \
  || fail "offline: $(cat "$out/e9.txt")"
if HF_HUB_OFFLINE=1 "$CMTEB_BIN" fetch --task-file "$out/task_corrupt.json" --data-dir "$out/empty" --quiet \
     > /dev/null 2> "$out/e10.txt"; then fail "offline, nothing there, succeeded"; fi
grep -q "no listing kept" "$out/e10.txt" || fail "offline: $(cat "$out/e10.txt")"
[ "$(nreq)" = "$n0" ] || fail "offline made requests"

# ---- a huggingface_hub cache read in place (nothing copied) -----------------------------------------
cc=$($py -c "import hashlib; print(hashlib.sha1(b'cached').hexdigest())")
sha=$(sha256sum "$out/repo/test/flaky/test.jsonl" | cut -d' ' -f1)
r="$HF_HUB_CACHE/datasets--test--cached"
mkdir -p "$r/blobs" "$r/snapshots/$cc" "$r/refs"
cp "$out/repo/test/flaky/test.jsonl" "$r/blobs/$sha"
ln -s "../../blobs/$sha" "$r/snapshots/$cc/test.jsonl"
printf '%s' "$cc" > "$r/refs/main"
echo '{"name": "CachedSTS", "type": "STS", "split": "test", "dataset": {"path": "test/cached", "revision": "main"}}' \
  > "$out/task_cached.json"
"$CMTEB_BIN" run --model hash --task-file "$out/task_cached.json" --data-dir "$out/empty" --output "$out/r4" --quiet \
  > /dev/null
$py - "$out" "$cc" "$r" <<'PY'
import glob, json, sys
out, cc, r = sys.argv[1:]
a = json.load(open(glob.glob(f"{out}/r4/*/*/CachedSTS.json")[0]))
assert a["cmteb"]["data_folder"] == f"{r}/snapshots/{cc}", a["cmteb"]["data_folder"]
assert a["cmteb"]["dataset_commit"] == cc
PY
[ ! -e "$out/empty/test/cached" ] || fail "cache copied"
echo "fetch_mock: ok ($(nreq) requests to the mock)"
