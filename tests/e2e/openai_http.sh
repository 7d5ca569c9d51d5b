#!/usr/bin/env bash
# openai_http.sh: the openai:URL backend against a local OpenAI-compatible
# server on loopback (a small Python server returning deterministic vectors):
# results equal those of precomputed vectors made by the same function, and an
# unreachable endpoint gives a clear error.
set -euo pipefail
command -v /usr/bin/python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
out="$CMTEB_TMP/e2e_openai"
rm -rf "$out"; mkdir -p "$out"
cat > "$out/server.py" <<'PY'
import hashlib, json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
def vec(t):
    h = hashlib.sha256(t.encode()).digest()
    return [(b - 128) / 64.0 for b in h[:16]]
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        data = [{"object": "embedding", "index": i, "embedding": vec(t)} for i, t in enumerate(body["input"])]
        out = json.dumps({"object": "list", "data": data, "model": body.get("model")}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out))); self.end_headers(); self.wfile.write(out)
    def log_message(self, *a): pass
s = HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.timeout = 60
import threading; threading.Timer(120, lambda: __import__("os")._exit(0)).start()
s.serve_forever()
PY
/usr/bin/python3 "$out/server.py" > "$out/port" &
srv=$!
trap 'kill $srv 2>/dev/null || true' EXIT
for i in $(seq 1 50); do [ -s "$out/port" ] && break; sleep 0.1; done
port=$(head -1 "$out/port")
mkdir -p "$out/sts"
printf '{"sentence1": "a cat", "sentence2": "a dog", "score": 1}\n{"sentence1": "red", "sentence2": "blue", "score": 3}\n{"sentence1": "x y", "sentence2": "y x", "score": 2}\n{"sentence1": "one", "sentence2": "two", "score": 4}\n' > "$out/sts/test.jsonl"
echo '{"name": "HttpSTS", "type": "STS", "data": "sts", "split": "test"}' > "$out/task.json"
"$CMTEB_BIN" run --model "openai:http://127.0.0.1:$port#test-model" --task-file "$out/task.json" --output "$out/r1" --quiet --batch-size 3 >/dev/null
# the same vectors through precomputed:
/usr/bin/python3 - "$out" <<'PY'
import hashlib, json, sys, struct
out = sys.argv[1]
texts = []
for l in open(f"{out}/sts/test.jsonl"):
    r = json.loads(l); texts += [r["sentence1"], r["sentence2"]]
import numpy as np
vec = lambda t: [(b - 128) / 64.0 for b in hashlib.sha256(t.encode()).digest()[:16]]
import os; os.makedirs(f"{out}/pre", exist_ok=True)
np.save(f"{out}/pre/embeddings.npy", np.array([vec(t) for t in texts], np.float32))
with open(f"{out}/pre/texts.jsonl", "w") as f:
    for t in texts: f.write(json.dumps({"text": t}) + "\n")
PY
"$CMTEB_BIN" run --model "precomputed:$out/pre" --task-file "$out/task.json" --output "$out/r2" --quiet >/dev/null
a=$(/usr/bin/python3 -c "import json,glob; print(json.load(open(glob.glob('$out/r1/*/*/HttpSTS.json')[0]))['scores']['test'][0]['main_score'])")
b=$(/usr/bin/python3 -c "import json,glob; print(json.load(open(glob.glob('$out/r2/*/*/HttpSTS.json')[0]))['scores']['test'][0]['main_score'])")
[ "$a" = "$b" ] || { echo "openai $a != precomputed $b"; exit 1; }
test -d "$out/r1/test-model"
kill $srv
if CMTEB_OPENAI_BACKOFF=0.01 "$CMTEB_BIN" run --model "openai:http://127.0.0.1:$port" --task-file "$out/task.json" --output "$out/r3" --quiet 2>"$out/err"; then exit 1; fi
grep -q "request failed" "$out/err"
echo "2 passed, 0 failed"
