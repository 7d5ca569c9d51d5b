#!/usr/bin/python3
"""ranking_bench.py: makes the retrieval benchmark's data and times the reference.

usage: ranking_bench.py make DIR [N_DOCS N_QUERIES DIM]   writes DIR/docs.npy, queries.npy, qrels.tsv
       ranking_bench.py run DIR                           times numpy + the reference metric code

The reference is what MTEB v1 runs, with numpy in place of torch: float32
cosine (normalise, matrix product) per chunk of 50,000 documents,
top-(1000+1) per chunk (np.argpartition, as torch.topk), BEIR's heapq merge
into 1000 hits per query with self-hits dropped, then pytrec_eval's
semantics written in Python (tests/reference/ref_rank_lib.py; pytrec_eval
itself is not installable here) and BEIR's MRR. Prints one JSON line like
bench/ranking_bench.c.
"""
import heapq
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
from ref_rank_lib import trec_query  # noqa: E402

KS = [1, 3, 5, 10, 20, 100, 1000]


def make(out, nd=100000, nq=1000, dim=384):
    rng = np.random.RandomState(384)
    docs = rng.randn(nd, dim).astype(np.float32)
    q = rng.randn(nq, dim).astype(np.float32)
    rows = []
    for i in range(nq):
        rel = rng.choice(nd, 4, replace=False)
        for j, d in enumerate(rel[:3]):        # three relevant documents near the query
            docs[d] = q[i] + rng.randn(dim).astype(np.float32) * (2.0 + 0.5 * j)
            rows.append((i, d, 2 if j == 0 else 1))
        rows.append((i, rel[3], 0))            # and a judged non-relevant one
    np.save(os.path.join(out, "docs.npy"), docs)
    np.save(os.path.join(out, "queries.npy"), q)
    with open(os.path.join(out, "qrels.tsv"), "w") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for i, d, r in rows:
            f.write("q%d\td%d\t%d\n" % (i, d, r))


def normalize(x):
    n = np.sqrt((x * x).sum(axis=1, dtype=np.float32)).astype(np.float32)
    return x / np.maximum(n, np.float32(1e-12))[:, None]


def run(d):
    docs = np.load(os.path.join(d, "docs.npy"))
    q = np.load(os.path.join(d, "queries.npy"))
    qrels = {}
    with open(os.path.join(d, "qrels.tsv")) as f:
        next(f)
        for line in f:
            a, b, r = line.split("\t")
            qrels.setdefault(a, {})[b] = int(r)
    nd, nq = len(docs), len(q)
    doc_ids = ["d%d" % i for i in range(nd)]
    query_ids = ["q%d" % i for i in range(nq)]
    top_k, chunk = 1000, 50000

    t0 = time.perf_counter()
    qn = normalize(q)
    heaps = [[] for _ in range(nq)]
    for c0 in range(0, nd, chunk):
        dn = normalize(docs[c0:c0 + chunk])
        S = qn @ dn.T
        k = min(top_k + 1, S.shape[1])
        idx = np.argpartition(-S, k - 1, axis=1)[:, :k]
        vals = np.take_along_axis(S, idx, axis=1)
        for qi in range(nq):
            h, qid = heaps[qi], query_ids[qi]
            for s, di in zip(vals[qi].tolist(), idx[qi].tolist()):
                cid = doc_ids[c0 + di]
                if cid == qid:
                    continue
                if len(h) < top_k:
                    heapq.heappush(h, (s, cid))
                else:
                    heapq.heappushpop(h, (s, cid))
    results = {query_ids[i]: {cid: s for s, cid in heaps[i]} for i in range(nq)}
    t1 = time.perf_counter()
    per = {qid: trec_query(results[qid], qrels[qid], KS) for qid in results if qid in qrels}
    means = {}
    for key in next(iter(per.values())):
        denom = len(qrels) if key.startswith("mrr_at_") else len(per)
        means[key] = round(sum(v[key] for v in per.values()) / denom, 5)
    t2 = time.perf_counter()
    out = {"n_docs": nd, "n_queries": nq, "dim": docs.shape[1], "search_s": round(t1 - t0, 4),
           "metrics_s": round(t2 - t1, 4)}
    out.update(means)
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], *[int(x) for x in sys.argv[3:6]])
    else:
        run(sys.argv[2])
