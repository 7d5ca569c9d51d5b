#!/usr/bin/env bash
# openai_replicas.sh: the openai: backend over several replica endpoints
# (tests/mock/openai_server.py on 127.0.0.1, injecting 429s with Retry-After in
# seconds and as an HTTP date, 500/503s, dropped connections, hung requests
# past the client timeout, truncated JSON, reordered data items, slow and
# out-of-order replicas, a dead replica). Checked against:
#   - a fault-free single-endpoint run: the vectors are equal byte for byte;
#   - the mock's own hash function, recomputed here in Python: every row holds
#     the vector of its own input text (so nothing is lost or reordered);
#   - the mock's counters: each fault was really injected, requests in flight
#     never exceed CMTEB_OPENAI_CONCURRENCY, no request beat a Retry-After;
#   - clear errors naming the endpoint when every replica fails, on a
#     non-retryable status and on wrong responses (count, dim, index, NaN).
set -euo pipefail
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: no /usr/bin/python3"; exit 77; }
mock="$CMTEB_SRC/tests/mock/openai_server.py"
out="$CMTEB_TMP/e2e_openai_replicas"
rm -rf "$out"; mkdir -p "$out"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
pass=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
fail() { echo "FAIL: $*"; [ -f "$out/err" ] && sed 's/^/  stderr: /' "$out/err" | head -20; exit 1; }

# start NAME SPEC...: a mock process; sets $NAME_p0, $NAME_p1, ... to the replicas' ports
start() {
    local name=$1; shift
    "$PY" "$mock" --portfile "$out/$name.ports" --stats "$out/$name.stats" --deadline 240 "$@" &
    pids+=($!)
    for _ in $(seq 1 100); do [ -s "$out/$name.ports" ] && break; sleep 0.05; done
    [ -s "$out/$name.ports" ] || fail "mock $name did not start"
    local i=0
    while read -r port; do eval "${name}_p$i=$port"; i=$((i + 1)); done < "$out/$name.ports"
}
url() { echo "http://127.0.0.1:$1"; }
mstat() { "$PY" -c "import json,sys; s=json.load(open('$out/$1.stats')); print(eval(sys.argv[1]))" "$2"; }
embed() { "$CMTEB_BIN" embed --input "$out/texts.jsonl" --quiet "$@"; }

# 300 texts (unicode, quotes, newlines, one empty-looking, duplicates) as JSON Lines
"$PY" - "$out/texts.jsonl" <<'PY'
import json, sys
t = [f"text {i}: " + ("naïve café ✓ " if i % 7 == 0 else "") + ("a \"quoted\"\nline" if i % 11 == 0 else "") +
     " ".join(str(i * j % 97) for j in range(i % 13)) for i in range(290)]
t += t[:10]   # duplicates keep their own rows
with open(sys.argv[1], "w") as f:
    for s in t: f.write(json.dumps({"text": s}) + "\n")
PY

# checkvec FILE: every row equals the mock's vec(text) of its own input line
checkvec() {
    "$PY" - "$out/texts.jsonl" "$1" <<'PY' || fail "$1: rows differ from the mock's vectors of their texts"
import hashlib, json, sys
import numpy as np
sys.path.insert(0, __import__("os").environ["CMTEB_SRC"] + "/tests/mock")
from openai_server import vec
texts = [json.loads(l)["text"] for l in open(sys.argv[1])]
a = np.load(sys.argv[2])
want = np.array([vec(t, 16) for t in texts], np.float32)
assert a.shape == want.shape, (a.shape, want.shape)
bad = np.nonzero((a != want).any(axis=1))[0]
assert len(bad) == 0, f"rows {bad[:10]} differ"
PY
}

# 1. reference: one fault-free endpoint
start ref ok
embed --model "openai:$(url $ref_p0)#m" --batch-size 7 --output "$out/ref.npy" 2>"$out/err" || fail "reference run"
checkvec "$out/ref.npy"
ok "single fault-free endpoint: every row is the vector of its text"

# 2. three replicas: a flaky one, a slow out-of-order one that sometimes hangs past the timeout, a dead one
# (a third of replica 0's requests fail; deterministic cycles, so a batch meets few faults in a row)
start flt "cycle=ok/429/ok/500/ok/ok/drop/ok/garbage/ok/ok/503/ok/429date/ok/ok,shuffle,jitter=0.05" \
          "cycle=ok/ok/ok/hang/ok/noindex/ok/ok,hang=3,delay=0.05,jitter=0.25" dead
export CMTEB_OPENAI_TIMEOUT=1 CMTEB_OPENAI_BACKOFF=0.05 CMTEB_OPENAI_BACKOFF_MAX=0.5 CMTEB_OPENAI_CONCURRENCY=6
export CMTEB_OPENAI_MAX_RETRIES=8
embed --model "openai:$(url $flt_p0),$(url $flt_p1), $(url $flt_p2)#m" --batch-size 5 --output "$out/flt.npy" \
    2>"$out/err" || fail "faulty replicas run"
cmp "$out/ref.npy" "$out/flt.npy" || fail "faulty replicas: vectors differ from the fault-free run"
checkvec "$out/flt.npy"
for f in 429 500 503 drop garbage 429date; do
    [ "$(mstat flt "s['replicas'][0]['faults'].get('$f', 0)")" -ge 1 ] || fail "fault $f was not injected"
done
[ "$(mstat flt "s['replicas'][1]['faults'].get('hang', 0)")" -ge 1 ] || fail "no hung request was injected"
[ "$(mstat flt "s['replicas'][0]['texts'] > 0 and s['replicas'][1]['texts'] > 0")" = True ] \
    || fail "a live replica got no work"
# completion order across replicas is not input order (so placement by position is really exercised)
"$PY" - "$out/texts.jsonl" "$out/flt.stats" <<'PY' || fail "responses completed in input order: nothing was reordered"
import json, sys
row = {}
for i, l in enumerate(open(sys.argv[1])): row.setdefault(json.loads(l)["text"], i)
seq = [row[t] for t in json.load(open(sys.argv[2]))["completed_first"] if t in row]
assert any(b < a for a, b in zip(seq, seq[1:])), seq
PY
ok "3 replicas with 429/500/503/drops/garbage/hangs/reordering and one dead: byte-equal to the reference"

unset CMTEB_OPENAI_MAX_RETRIES
# 3. the dead replica first (it gets the probe): the live one does all the work
start dead dead ok
embed --model "openai:$(url $dead_p0),$(url $dead_p1)#m" --batch-size 16 --output "$out/dead.npy" 2>"$out/err" \
    || fail "dead replica run"
cmp "$out/ref.npy" "$out/dead.npy" || fail "dead replica: vectors differ"
[ "$(mstat dead "s['replicas'][1]['texts']")" = 301 ] \
    || fail "the live replica did not serve the probe and all 300 texts"
ok "dead first replica: work completes on the other"

# 4. Retry-After (seconds and HTTP date) honoured: one replica, one request at a time
start ra "cycle=ok/429/ok/ok/429date/ok,retry_after=1"
t0=$(date +%s.%N)
CMTEB_OPENAI_CONCURRENCY=1 embed --model "openai:$(url $ra_p0)#m" --batch-size 50 --output "$out/ra.npy" \
    2>"$out/err" || fail "Retry-After run"
t1=$(date +%s.%N)
cmp "$out/ref.npy" "$out/ra.npy" || fail "Retry-After: vectors differ"
[ "$(mstat ra "s['replicas'][0]['faults'].get('429', 0) >= 1 and s['replicas'][0]['faults'].get('429date', 0) >= 1")" \
    = True ] || fail "no 429s were sent"
[ "$(mstat ra "s['replicas'][0]['violations']")" = 0 ] || fail "a request came before its Retry-After"
[ "$(mstat ra "s['max_inflight']")" = 1 ] || fail "CMTEB_OPENAI_CONCURRENCY=1 but more in flight"
"$PY" -c "import sys; sys.exit(0 if $t1 - $t0 >= 2.0 else 1)" || fail "finished in under 2 s despite Retry-After"
ok "Retry-After in seconds and as an HTTP date honoured"

# 5. the in-flight limit: 2 slow replicas, 3 slots, 30 requests; the server counts concurrent requests
start inf "delay=0.2" "delay=0.2"
head -30 "$out/texts.jsonl" > "$out/t30.jsonl"
CMTEB_OPENAI_CONCURRENCY=3 "$CMTEB_BIN" embed --input "$out/t30.jsonl" --quiet \
    --model "openai:$(url $inf_p0),$(url $inf_p1)#m" --batch-size 1 --output "$out/inf.npy" 2>"$out/err" \
    || fail "in-flight run"
[ "$(mstat inf "s['max_inflight']")" = 3 ] || fail "max in flight $(mstat inf "s['max_inflight']"), expected 3"
[ "$(mstat inf "min(r['ok'] for r in s['replicas']) >= 5")" = True ] || fail "work was not spread over both replicas"
ok "in-flight limit honoured (max 3 of 3) and work spread over the replicas"

# 6. every replica failing: a clear error naming an endpoint and its status, after bounded retries
start bad "ok_first=1,cycle=503" "cycle=503" "cycle=400" "ok_first=1,cycle=baddim" \
          "ok_first=1,cycle=short" "ok_first=1,cycle=nan" "ok_first=1,cycle=dupindex" "cycle=garbage"
expect_fail() {   # expect_fail PATTERN SPEC [env...]
    local pat=$1 spec=$2; shift 2
    if env "$@" "$CMTEB_BIN" embed --input "$out/t30.jsonl" --quiet --model "$spec" --output "$out/x.npy" \
        2>"$out/err"; then fail "$spec succeeded"; fi
    grep -Eq -- "$pat" "$out/err" || fail "$spec: expected /$pat/"
}
u() { echo "$(url "$1")/v1/embeddings"; }
expect_fail "gave up after 4 attempts; last: ($(u $bad_p0)|$(u $bad_p1)): HTTP 503" \
    "openai:$(url $bad_p0),$(url $bad_p1)#m" CMTEB_OPENAI_MAX_RETRIES=3
ok "all replicas failing: $(grep -o 'gave up.*' "$out/err" | head -c 150)"
expect_fail "gave up after 3 attempts; last: $(u $dead_p0): request failed" "openai:$(url $dead_p0)#m" \
    CMTEB_OPENAI_MAX_RETRIES=2
ok "only a dead replica: gives up naming it"
expect_fail "$(u $bad_p2): HTTP 400 \(not retried\)" "openai:$(url $bad_p2)#m"
[ "$(mstat bad "s['replicas'][2]['requests']")" = 1 ] || fail "HTTP 400 was retried"
ok "HTTP 400 is not retried"
expect_fail "$(u $bad_p3): response data\[[0-9]+\]\.embedding has 15 values, expected dimension 16" \
    "openai:$(url $bad_p3)#m"
expect_fail "$(u $bad_p4): response has [0-9]+ embeddings for [0-9]+ inputs" "openai:$(url $bad_p4)#m"
expect_fail "$(u $bad_p5): response is not valid JSON \(non-finite" "openai:$(url $bad_p5)#m"
expect_fail "$(u $bad_p6): response data\[[0-9]+\]: index 0 appears twice" "openai:$(url $bad_p6)#m"
expect_fail "gave up after 2 attempts; last: $(u $bad_p7): response is not valid JSON" "openai:$(url $bad_p7)#m" \
    CMTEB_OPENAI_MAX_RETRIES=1
ok "wrong dim / count / NaN / duplicate index / truncated JSON: errors naming the endpoint"

# 7. bad spec and settings
expect_fail "endpoint 2 of .* is empty" "openai:$(url $ref_p0),#m"
expect_fail "must start with http:// or https://" "openai:127.0.0.1:$ref_p0#m"
expect_fail "CMTEB_OPENAI_CONCURRENCY is '0': expected a number from 1" "openai:$(url $ref_p0)#m" \
    CMTEB_OPENAI_CONCURRENCY=0
ok "bad specs and settings are refused with a reason"

# 8. cmteb run over replicas: the same score as over the single endpoint
mkdir -p "$out/sts"
"$PY" - "$out/sts/test.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(40):
        f.write(json.dumps({"sentence1": f"s{i} a", "sentence2": f"s{i} b {i % 5}", "score": i % 5}) + "\n")
PY
echo '{"name": "ReplicaSTS", "type": "STS", "data": "sts", "split": "test"}' > "$out/task.json"
"$CMTEB_BIN" run --model "openai:$(url $ref_p0)#m" --task-file "$out/task.json" --output "$out/r1" --quiet \
    --batch-size 3 >/dev/null 2>"$out/err" || fail "run, single"
"$CMTEB_BIN" run --model "openai:$(url $flt_p0),$(url $flt_p1)#m" --task-file "$out/task.json" --output "$out/r2" \
    --quiet --batch-size 3 >/dev/null 2>"$out/err" || fail "run, replicas"
score() { "$PY" -c "import json,glob; print(json.load(open(glob.glob('$1/*/*/ReplicaSTS.json')[0]))['scores'])"; }
[ "$(score "$out/r1")" = "$(score "$out/r2")" ] || fail "run scores differ between single endpoint and replicas"
ok "cmteb run over replicas scores as the single endpoint"

echo "$pass passed, 0 failed"
