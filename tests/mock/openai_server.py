#!/usr/bin/env python3
"""openai_server.py: OpenAI-compatible /v1/embeddings replicas on 127.0.0.1
that inject faults and delays, for tests/e2e/openai_*.sh. Standard library only.

    openai_server.py --portfile F --stats F [--dim 16] [--max-requests N] [--deadline S] SPEC [SPEC ...]

One replica per SPEC, each on its own port (one line per replica in
--portfile, written once all listen). SPEC is comma-separated options:

    ok                 no faults (the default)
    dead               nothing listens: the port is closed (connection refused)
    delay=S            every request takes S seconds before answering
    jitter=S           plus a random (seeded) 0..S seconds: completion out of order
    shuffle            data items in reverse order (their "index" fields say where they go)
    ok_first=N         the first N requests of this replica never get a fault
    cycle=A/B/...      request k (after ok_first) gets fault cycle[k % len]:
        ok | 429 (Retry-After: seconds) | 429date (Retry-After: HTTP date) | 500 | 503 | 400
        drop (connection closed with no reply) | hang (sleeps hang=S, past the client's timeout)
        garbage (200, truncated JSON) | nan (NaN in a vector) | baddim (one vector too short)
        short (one embedding missing) | dupindex (two items with index 0) | noindex (no index fields)
    retry_after=S      the seconds a 429 asks for (default 1); 429date asks for now+S+1 as a date
    hang=S             how long a hang sleeps (default 5)

Vectors are deterministic: vec(text) = sha256(text) bytes -> (b - 128) / 64, `dim`
values (sha256 chained for dim > 32). --stats gets a JSON file, rewritten after every
request: per replica requests / faults by kind / texts served, the most requests
in flight at once over all replicas, the first text of each successful response
in completion order, and Retry-After violations (a request reaching a replica
before the time its last 429 asked for). The process exits after --max-requests
requests or --deadline seconds.
"""
import argparse, email.utils, hashlib, json, os, random, socket, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def vec(text, dim):
    out, h = [], text.encode()
    while len(out) < dim:
        h = hashlib.sha256(h).digest() if out else hashlib.sha256(text.encode()).digest()
        out += [(b - 128) / 64.0 for b in h]
    return out[:dim]


def parse_spec(spec):
    o = {"dead": False, "delay": 0.0, "jitter": 0.0, "shuffle": False, "ok_first": 0, "cycle": ["ok"],
         "retry_after": 1, "hang": 5.0}
    for part in filter(None, spec.split(",")):
        k, _, v = part.partition("=")
        if k in ("ok",): continue
        elif k in ("dead", "shuffle"): o[k] = True
        elif k in ("delay", "jitter", "hang"): o[k] = float(v)
        elif k in ("ok_first", "retry_after"): o[k] = int(v)
        elif k == "cycle": o[k] = v.split("/")
        else: sys.exit(f"openai_server.py: unknown option '{k}' in '{spec}'")
    return o


class State:
    def __init__(self, n, max_requests):
        self.lock = threading.Lock()
        self.inflight = self.max_inflight = self.total = 0
        self.max_requests = max_requests
        self.rep = [{"requests": 0, "faults": {}, "texts": 0, "ok": 0, "not_before": 0.0, "violations": 0}
                    for _ in range(n)]
        self.completed = []

    def dump(self, path):
        d = {"max_inflight": self.max_inflight, "total": self.total, "completed_first": self.completed,
             "replicas": [{k: v for k, v in r.items() if k != "not_before"} for r in self.rep]}
        tmp = path + ".tmp"
        with open(tmp, "w") as f: json.dump(d, f)
        os.replace(tmp, path)


def make_handler(i, opt, st, args, rng):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a): pass

        def send(self, code, body, headers=()):
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            for k, v in headers: self.send_header(k, v)
            self.release()   # before the client can see the reply and send its next request
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def release(self):
            with st.lock:
                if self.counted:
                    self.counted = False
                    st.inflight -= 1

        def do_POST(self):
            now = time.time()
            self.counted = True
            with st.lock:
                r = st.rep[i]
                k = r["requests"]
                r["requests"] += 1
                st.total += 1
                st.inflight += 1
                st.max_inflight = max(st.max_inflight, st.inflight)
                if now < r["not_before"] - 0.05: r["violations"] += 1
                fault = "ok" if k < opt["ok_first"] else opt["cycle"][(k - opt["ok_first"]) % len(opt["cycle"])]
                r["faults"][fault] = r["faults"].get(fault, 0) + 1
                delay = opt["delay"] + rng.random() * opt["jitter"]
                st.dump(args.stats)
            try:
                self.handle_one(fault, delay, st.rep[i])
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                self.release()
                with st.lock:
                    st.dump(args.stats)
                    if st.total >= st.max_requests: os._exit(3)

        def handle_one(self, fault, delay, r):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            texts = body["input"]
            time.sleep(delay)
            if fault == "drop":
                self.release()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault == "hang":
                time.sleep(opt["hang"])
            if fault in ("429", "429date"):
                ra = opt["retry_after"]
                if fault == "429":
                    hdr, nb = str(ra), time.time() + ra
                else:
                    when = int(time.time()) + ra + 1
                    hdr, nb = email.utils.formatdate(when, usegmt=True), float(when)
                with st.lock: r["not_before"] = max(r["not_before"], nb)
                return self.send(429, b'{"error": {"message": "rate limited"}}', [("Retry-After", hdr)])
            if fault in ("500", "503", "400"):
                return self.send(int(fault), b'{"error": {"message": "injected %s"}}' % fault.encode())
            data = [{"object": "embedding", "index": j, "embedding": vec(t, args.dim)} for j, t in enumerate(texts)]
            if fault == "nan": data[-1]["embedding"][0] = float("nan")
            if fault == "baddim": data[-1]["embedding"] = data[-1]["embedding"][:-1]
            if fault == "short": data = data[:-1] if len(data) > 1 else []
            if fault == "dupindex": data[-1]["index"] = 0 if len(data) > 1 else 5
            if fault == "noindex":
                for d in data: del d["index"]
            if opt["shuffle"]: data.reverse()
            out = json.dumps({"object": "list", "data": data, "model": body.get("model")}).encode()
            if fault == "garbage": out = out[: len(out) // 2]
            self.send(200, out)
            if fault == "ok":
                with st.lock:
                    r["ok"] += 1
                    r["texts"] += len(texts)
                    if texts: st.completed.append(texts[0])
    return H


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--portfile", required=True)
    ap.add_argument("--stats", required=True)
    ap.add_argument("--dim", type=int, default=16)
    ap.add_argument("--max-requests", type=int, default=5000)
    ap.add_argument("--deadline", type=float, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("specs", nargs="+")
    args = ap.parse_args()
    st = State(len(args.specs), args.max_requests)
    st.dump(args.stats)
    ports, keep = [], []
    for i, spec in enumerate(args.specs):
        opt = parse_spec(spec)
        if opt["dead"]:
            s = socket.socket(); s.bind(("127.0.0.1", 0)); ports.append(s.getsockname()[1]); s.close()
            continue
        srv = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(i, opt, st, args, random.Random(args.seed + i)))
        srv.daemon_threads = True
        ports.append(srv.server_address[1])
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        keep.append(srv)
    with open(args.portfile + ".tmp", "w") as f: f.write("".join(f"{p}\n" for p in ports))
    os.replace(args.portfile + ".tmp", args.portfile)
    time.sleep(args.deadline)
    os._exit(0)


if __name__ == "__main__":
    main()
