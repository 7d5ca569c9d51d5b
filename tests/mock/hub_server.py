#!/usr/bin/python3
"""hub_server.py CONFIG.json PORTFILE LOGFILE: a mock of the Hugging Face hub for the fetch tests.

Stdlib only. Two servers on 127.0.0.1 ephemeral ports: the "hub" (tree listing API with Link rel=next
pagination, resolve URLs with X-Repo-Commit / X-Linked-Etag / X-Linked-Size / ETag, X-Error-Code errors,
gated repositories needing a Bearer token) and a "CDN" that the resolve URL of an LFS file redirects to
(302, another port: the client must not send its token there). PORTFILE gets "HUBPORT CDNPORT"; every
request is appended to LOGFILE as a JSON line {server, method, path, range, auth, status}.

CONFIG: {"repos": {"org/name": {"commit": 40hex, "gated": bool, "files": {"path": local file},
          "lfs": [paths served through the CDN], "faults": {"path": {"status": [429, 500, ...],
          "retry_after": "1", "drop": n, "corrupt": n}}}},
         "token": "...", "page_size": 2, "max_requests": 2000, "max_seconds": 300}
Faults per file, each used up request by request: "status" answers the next resolve GETs with these
codes (Retry-After on 429); "drop" sends the headers and half the body, then closes the connection;
"corrupt" flips a byte of the body. The loop is bounded: the process exits after max_requests requests
or max_seconds seconds, whichever comes first.
"""
import hashlib, json, os, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

cfg = json.load(open(sys.argv[1]))
portfile, logfile = sys.argv[2], sys.argv[3]
lock = threading.Lock()
count = [0]
repos = {}
for name, r in cfg["repos"].items():
    files = {}
    for path, local in r["files"].items():
        data = open(local, "rb").read()
        files[path] = {"data": data, "sha256": hashlib.sha256(data).hexdigest(),
                       "oid": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest(),
                       "lfs": path in r.get("lfs", [])}
    repos[name] = {"commit": r["commit"], "gated": r.get("gated", False), "files": files,
                   "faults": {k: dict(v) for k, v in r.get("faults", {}).items()}}
blobs = {f["sha256"]: (name, path) for name, r in repos.items() for path, f in r["files"].items()}
ports = {}


def log(entry):
    with lock:
        with open(logfile, "a") as f:
            f.write(json.dumps(entry) + "\n")


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_kind = "hub"

    def log_message(self, *a):
        pass

    def count(self):
        with lock:
            count[0] += 1
            if count[0] > cfg.get("max_requests", 2000):
                os._exit(0)

    def reply(self, status, body=b"", headers=None, head=False):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)
        self.logged["status"] = status
        log(self.logged)

    def error(self, status, code, msg, head=False):
        self.reply(status, json.dumps({"error": msg}).encode(), {"X-Error-Code": code, "X-Error-Message": msg,
                                                                 "Content-Type": "application/json"}, head)

    def do_HEAD(self):
        self.handle_any(True)

    def do_GET(self):
        self.handle_any(False)

    def handle_any(self, head):
        self.count()
        auth = self.headers.get("Authorization")
        self.logged = {"server": self.server_kind, "method": self.command, "path": self.path,
                       "range": self.headers.get("Range"), "auth": auth is not None, "t": time.time()}
        u = urllib.parse.urlsplit(self.path)
        if self.server_kind == "cdn":
            return self.cdn(u, head)
        parts = u.path.split("/")
        # /api/datasets/ORG/NAME/tree/REV  or  /datasets/ORG/NAME/resolve/REV/PATH...
        if len(parts) >= 7 and parts[1] == "api" and parts[2] == "datasets" and parts[5] == "tree":
            repo, rev, kind, rest = parts[3] + "/" + parts[4], parts[6], "tree", ""
        elif len(parts) >= 7 and parts[1] == "datasets" and parts[4] == "resolve":
            repo, rev, kind, rest = parts[2] + "/" + parts[3], parts[5], "resolve", "/".join(parts[6:])
        else:
            return self.error(404, "EntryNotFound", "no such route", head)
        r = repos.get(repo)
        if r is None:
            return self.error(401, "RepoNotFound", "Repository not found", head)
        if r["gated"] and auth != "Bearer " + cfg.get("token", ""):
            return self.error(401, "GatedRepo", "Access to dataset %s is restricted" % repo, head)
        rev = urllib.parse.unquote(rev)
        if not (rev == "main" or (len(rev) >= 7 and r["commit"].startswith(rev))):
            return self.error(404, "RevisionNotFound", "Invalid rev id: " + rev, head)
        if kind == "tree":
            return self.tree(u, repo, r, head)
        path = urllib.parse.unquote(rest)
        f = r["files"].get(path)
        if f is None:
            return self.error(404, "EntryNotFound", path + " does not exist", head)
        fault = r["faults"].get(path, {})
        if not head and fault.get("status"):
            st = fault["status"].pop(0)
            hdr = {"Retry-After": fault["retry_after"]} if st == 429 and "retry_after" in fault else {}
            return self.reply(st, b"busy", hdr)
        common = {"X-Repo-Commit": r["commit"]}
        if f["lfs"]:
            loc = "http://127.0.0.1:%d/blob/%s?repo=%s" % (ports["cdn"], f["sha256"], urllib.parse.quote(repo))
            common.update({"Location": loc, "X-Linked-Etag": '"%s"' % f["sha256"],
                           "X-Linked-Size": str(len(f["data"])), "ETag": '"%s"' % f["oid"]})
            return self.reply(302, b"", common, head)
        common["ETag"] = '"%s"' % f["oid"]
        return self.body(f, fault, head, common)

    def tree(self, u, repo, r, head):
        q = urllib.parse.parse_qs(u.query)
        entries, dirs = [], set()
        for path, f in sorted(r["files"].items()):
            d = os.path.dirname(path)
            while d and d not in dirs:
                dirs.add(d)
                entries.append({"type": "directory", "oid": "0" * 40, "size": 0, "path": d})
                d = os.path.dirname(d)
            e = {"type": "file", "oid": f["oid"], "size": len(f["data"]), "path": path}
            if f["lfs"]:
                e["lfs"] = {"oid": f["sha256"], "size": len(f["data"]), "pointerSize": 134}
                e["size"] = len(f["data"])
            entries.append(e)
        n = cfg.get("page_size", 2)
        start = int(q.get("cursor", ["0"])[0])
        page = entries[start:start + n]
        hdr = {"Content-Type": "application/json"}
        if start + n < len(entries):
            nq = dict((k, v[0]) for k, v in q.items())
            nq["cursor"] = str(start + n)
            hdr["Link"] = '<http://127.0.0.1:%d%s?%s>; rel="next"' % (ports["hub"], u.path, urllib.parse.urlencode(nq))
        self.reply(200, json.dumps(page).encode(), hdr, head)

    def cdn(self, u, head):
        sha = u.path.rsplit("/", 1)[-1]
        if not u.path.startswith("/blob/") or sha not in blobs:
            return self.reply(404, b"no blob")
        repo, path = blobs[sha]
        f = repos[repo]["files"][path]
        fault = repos[repo]["faults"].get(path, {})
        self.body(f, fault, head, {"ETag": '"cdn-%s"' % sha[:8]})

    def body(self, f, fault, head, hdr):
        data = f["data"]
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                return self.reply(416, b"", {"Content-Range": "bytes */%d" % len(data)}, head)
        part = data[start:]
        if not head and fault.get("corrupt", 0) > 0 and part:
            fault["corrupt"] -= 1
            part = bytes([part[0] ^ 0xFF]) + part[1:]
        status = 206 if start else 200
        if start:
            hdr["Content-Range"] = "bytes %d-%d/%d" % (start, len(data) - 1, len(data))
        if not head and fault.get("drop", 0) > 0 and len(part) > 1:
            fault["drop"] -= 1
            self.send_response(status)
            for k, v in hdr.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(part)))
            self.end_headers()
            self.wfile.write(part[:len(part) // 2])
            self.wfile.flush()
            self.logged["status"] = status
            self.logged["dropped_after"] = len(part) // 2
            log(self.logged)
            self.close_connection = True
            import socket
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.reply(status, part, hdr, head)


class Cdn(H):
    server_kind = "cdn"


hub = ThreadingHTTPServer(("127.0.0.1", 0), H)
cdn = ThreadingHTTPServer(("127.0.0.1", 0), Cdn)
ports["hub"], ports["cdn"] = hub.server_address[1], cdn.server_address[1]
threading.Thread(target=cdn.serve_forever, daemon=True).start()
threading.Timer(cfg.get("max_seconds", 300), lambda: os._exit(0)).start()
with open(portfile + ".tmp", "w") as f:
    f.write("%d %d\n" % (ports["hub"], ports["cdn"]))
os.rename(portfile + ".tmp", portfile)
hub.serve_forever()
