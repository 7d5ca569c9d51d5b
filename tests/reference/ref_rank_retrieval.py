#!/usr/bin/python3
"""ref_rank_retrieval.py: writes tests/fixtures/ranking/retrieval_ref.json.

Run with Debian's python3 (python3-numpy):
    /usr/bin/python3 tests/reference/ref_rank_retrieval.py

What MTEB v1 (BEIR's DenseRetrievalExactSearch + EvaluateRetrieval) computes
for given float32 embeddings, written out independently of the C code:
  * cos_sim in float32 (normalise both sides, matrix product);
  * per query a heapq of size top_k over (score, corpus_id) tuples, skipping
    corpus_id == query_id (v1 drops self-hits at search time);
  * trec_eval semantics (pytrec_eval): float32 scores, ranking by score
    descending then docno descending, ndcg_cut with graded gain and the ideal
    DCG from the qrels, map_cut / num_rel, recall / num_rel, P at fixed k;
    queries in both run and qrels averaged; round(x, 5);
  * BEIR's MRR@k (first hit with qrel > 0 within k; ties in trec order),
    summed over the run and divided by len(qrels).
The data has ties (duplicate document vectors), a self-id collision, graded
and zero qrels, a query with only zero qrels, a duplicated qrels row (the last
one wins) and a qrels query without text.

The C test tests/unit/test_retrieval.c runs cmteb's search and metrics on the
same vectors and compares (per-query values to 1e-6, means exactly after
rounding).
"""
import heapq
import json
import math
import os

import numpy as np

from ref_rank_lib import trec_query, trec_rank

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "ranking")
os.makedirs(OUT, exist_ok=True)
rng = np.random.RandomState(20261130)

ND, NQ, DIM = 300, 24, 12
K_VALUES = [1, 3, 5, 10, 20, 50]
TOP_K = max(K_VALUES)

docs = rng.randn(ND, DIM).astype(np.float32)
queries = rng.randn(NQ, DIM).astype(np.float32)
doc_ids = ["doc%03d" % i for i in range(ND)]
query_ids = ["q%02d" % i for i in range(NQ)]
# ties: identical document vectors under different ids
docs[11] = docs[10]
docs[51] = docs[50]
docs[52] = docs[50]
# self-hit: a document with the same id and vector as query q03
doc_ids[77] = "q03"
docs[77] = queries[3]
# make some documents close to some queries so that metrics are not all ~0
for qi in range(NQ):
    for j in range(3):
        d = rng.randint(ND)
        docs[d] = (queries[qi] + 0.4 * rng.randn(DIM)).astype(np.float32)

qrels = {}
rows = []
for qi in range(NQ):
    qid = query_ids[qi]
    qrels[qid] = {}
    # relevant: the docs nearest to the query in exact arithmetic plus random ones
    sims = docs.astype(np.float64) @ queries[qi].astype(np.float64)
    near = list(np.argsort(-sims)[:8])
    chosen = [near[i] for i in rng.choice(8, 3, replace=False)] + list(rng.choice(ND, 3, replace=False))
    for d in chosen:
        rel = int(rng.choice([0, 1, 1, 2]))
        rows.append([qid, doc_ids[d], rel])
        qrels[qid][doc_ids[d]] = rel
# a query with only zero judgments
qrels["q05"] = {}
rows = [r for r in rows if r[0] != "q05"]
for d in (1, 2):
    rows.append(["q05", doc_ids[d], 0])
    qrels["q05"][doc_ids[d]] = 0
# a duplicated row: the last one wins (a dict assignment)
rows.append(["q07", doc_ids[200], 1])
rows.append(["q07", doc_ids[200], 2])
qrels["q07"][doc_ids[200]] = 2
# a qrels query with no text in the queries file
rows.append(["q_missing", doc_ids[3], 1])
qrels["q_missing"] = {doc_ids[3]: 1}


def normalize(x):
    n = np.sqrt((x.astype(np.float32) ** 2).sum(axis=1, dtype=np.float32)).astype(np.float32)
    return (x / np.maximum(n, np.float32(1e-12))[:, None]).astype(np.float32)


qn, dn = normalize(queries), normalize(docs)
S = (qn @ dn.T).astype(np.float32)   # (NQ, ND) float32 cosine

results = {}
for qi, qid in enumerate(query_ids):
    heap = []
    for d in range(ND):
        cid = doc_ids[d]
        if cid == qid:
            continue
        item = (float(S[qi, d]), cid)
        if len(heap) < TOP_K:
            heapq.heappush(heap, item)
        else:
            heapq.heappushpop(heap, item)
    results[qid] = {cid: s for s, cid in heap}


per_query = {}
for qid in query_ids:
    if qid in qrels:
        per_query[qid] = trec_query(results[qid], qrels[qid], K_VALUES)

means = {}
keys = list(next(iter(per_query.values())).keys())
for key in keys:
    total = sum(v[key] for v in per_query.values())
    denom = len(qrels) if key.startswith("mrr_at_") else len(per_query)
    means[key] = round(total / denom, 5)

fixture = {
    "dim": DIM,
    "k_values": K_VALUES,
    "doc_ids": doc_ids,
    "docs": docs.astype(float).tolist(),
    "query_ids": query_ids,
    "queries": queries.astype(float).tolist(),
    "qrels": rows,
    "n_qrels_queries": len(qrels),
    "expected_hits": {qid: [[doc, float(np.float32(s))] for doc, s in trec_rank(results[qid])] for qid in query_ids},
    "expected_per_query": per_query,
    "expected_means": means,
}
with open(os.path.join(OUT, "retrieval_ref.json"), "w") as f:
    json.dump(fixture, f, indent=None, separators=(",", ":"))
print("wrote retrieval_ref.json: %d docs, %d queries, ndcg_at_10 %.5f, mrr_at_10 %.5f"
      % (ND, NQ, means["ndcg_at_10"], means["mrr_at_10"]))

# ---- the same data as a BEIR folder + precomputed vectors, for the evaluator end to end ----
# Documents are "document <i>" (no title), queries "query <i>"; the C test runs
# cm_eval_retrieval with the precomputed:retrieval_e2e/model backend and
# k_values above, and must reproduce expected_means exactly.
E2E = os.path.join(OUT, "retrieval_e2e")
os.makedirs(os.path.join(E2E, "data", "qrels"), exist_ok=True)
os.makedirs(os.path.join(E2E, "model"), exist_ok=True)
with open(os.path.join(E2E, "data", "corpus.jsonl"), "w") as f:
    for i, did in enumerate(doc_ids):
        f.write(json.dumps({"_id": did, "title": "", "text": "document %d" % i}) + "\n")
with open(os.path.join(E2E, "data", "queries.jsonl"), "w") as f:
    for i, qid in enumerate(query_ids):
        f.write(json.dumps({"_id": qid, "text": "query %d" % i}) + "\n")
with open(os.path.join(E2E, "data", "qrels", "test.tsv"), "w") as f:
    f.write("query-id\tcorpus-id\tscore\n")
    for q, d, r in rows:
        f.write("%s\t%s\t%d\n" % (q, d, r))
with open(os.path.join(E2E, "model", "texts.jsonl"), "w") as f:
    for i in range(ND):
        f.write(json.dumps({"text": "document %d" % i, "role": "document"}) + "\n")
    for i in range(NQ):
        f.write(json.dumps({"text": "query %d" % i, "role": "query"}) + "\n")
np.save(os.path.join(E2E, "model", "embeddings.npy"), np.concatenate([docs, queries]).astype(np.float32))
with open(os.path.join(E2E, "expected.json"), "w") as f:
    json.dump({"k_values": K_VALUES, "scores": means,
               "ndcg_at_10_per_query": {q: v["ndcg_at_10"] for q, v in per_query.items()}}, f, indent=1)
