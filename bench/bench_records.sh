#!/usr/bin/env bash
# bench_records.sh: the record readers (datasets/records.c) against Python's
# json and csv modules on the same files, one pass each, single thread.
# usage: bench/bench_records.sh BUILD_DIR [SHARED_DIR]   (from the repository root)
# Inputs are made in a temp folder from ../shared/data: the SciFact corpus
# repeated 10 times as .jsonl, .jsonl.gz, .json (array) and .csv, and the
# SciFact test qrels repeated 2000 times as .tsv.
set -eu
BUILD=${1:?usage: bench/bench_records.sh BUILD_DIR [SHARED_DIR]}
SHARED=${2:-../shared}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -I include $(for l in core engine embedding datasets tasks reports; do printf -- "-I %s/include " "$l"; done) bench/bench_records.c "$BUILD/libcmteb.a" \
   $(pkg-config --libs libcjson) -lcsv -lz -lm -fopenmp -o "$T/bench_records"
/usr/bin/python3 - "$SHARED/data/mteb/scifact" "$T" <<'PY'
import csv, gzip, json, sys
src, out = sys.argv[1], sys.argv[2]
docs = [json.loads(l) for l in open(f"{src}/corpus.jsonl", encoding="utf-8")]
rows = [dict(d, _id=f"{d['_id']}-{k}") for k in range(10) for d in docs]
with open(f"{out}/corpus.jsonl", "w", encoding="utf-8") as f:
    for r in rows: f.write(json.dumps(r, ensure_ascii=False) + "\n")
with gzip.open(f"{out}/corpus.jsonl.gz", "wt", encoding="utf-8", compresslevel=6) as f:
    for r in rows: f.write(json.dumps(r, ensure_ascii=False) + "\n")
with open(f"{out}/corpus.json", "w", encoding="utf-8") as f:
    json.dump(rows, f, ensure_ascii=False, indent=1)
with open(f"{out}/corpus.csv", "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f); w.writerow(["_id", "title", "text"])
    for r in rows: w.writerow([r["_id"], r["title"], r["text"]])
q = open(f"{src}/qrels/test.tsv", encoding="utf-8").read().splitlines()
with open(f"{out}/qrels.tsv", "w", encoding="utf-8") as f:
    f.write(q[0] + "\n")
    for k in range(2000): f.write("\n".join(q[1:]) + "\n")
PY
"$T/bench_records" text "$T/corpus.jsonl" "$T/corpus.jsonl.gz" "$T/corpus.json" "$T/corpus.csv"
"$T/bench_records" corpus-id "$T/qrels.tsv"
/usr/bin/python3 - "$T" <<'PY'
import csv, gzip, json, os, sys, time
d = sys.argv[1]
def report(path, n, chars, t0):
    dt = time.perf_counter() - t0
    print(f"python  {path:<40} {n:9d} records {chars:12d} chars {dt:7.3f} s {os.path.getsize(path)/1e6/dt:7.1f} MB/s (on-disk)")
for name, opener in (("corpus.jsonl", open), ("corpus.jsonl.gz", gzip.open)):
    p = f"{d}/{name}"; t0 = time.perf_counter(); n = c = 0
    with opener(p, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip(): r = json.loads(line); c += len(r["text"]); n += 1
    report(p, n, c, t0)
p = f"{d}/corpus.json"; t0 = time.perf_counter(); n = c = 0
for r in json.load(open(p, encoding="utf-8")): c += len(r["text"]); n += 1
report(p, n, c, t0)
for name, field, delim in (("corpus.csv", "text", ","), ("qrels.tsv", "corpus-id", "\t")):
    p = f"{d}/{name}"; t0 = time.perf_counter(); n = c = 0
    with open(p, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f, delimiter=delim): c += len(r[field]); n += 1
    report(p, n, c, t0)
PY
