#!/usr/bin/python3
"""ref_rank_reranking.py: writes tests/fixtures/ranking/reranking_ref.json.

Run with Debian's python3 (python3-numpy, python3-sklearn):
    /usr/bin/python3 tests/reference/ref_rank_reranking.py

  ap_cases  labels + scores with many ties (scores on a coarse grid, repeated
            values across positives and negatives), and
            sklearn.metrics.average_precision_score on them. Edge cases: one
            item, all positive, all tied. (No case without positives:
            sklearn warns and returns -0.0 there; cmteb returns 0.)
  samples   reranking samples as float32 vectors (one query, or a list of 3
            queries as MindSmallReranking has), with MTEB's per-sample
            values: cos_sim in float32 (normalise, matrix product), amax over
            the queries, AP = average_precision_score(is_relevant, scores),
            MRR@10 over np.argsort(-scores, kind="stable") (MTEB uses
            torch.argsort, unspecified among ties; cmteb keeps input order),
            and the means "map" / "mrr".
The C test tests/unit/test_reranking.c compares to 1e-12 (AP on the same
float32 scores) and 1e-6 (scores).
"""
import json
import os

import numpy as np
from sklearn.metrics import average_precision_score

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "ranking")
os.makedirs(OUT, exist_ok=True)
rng = np.random.RandomState(77)

cases = []
for t in range(60):
    n = int(rng.randint(2, 40))
    labels = rng.randint(0, 2, size=n)
    if labels.sum() == 0:
        labels[rng.randint(n)] = 1
    grid = [2, 3, 5, 10][t % 4]                    # coarse grids: many ties
    scores = np.round(rng.uniform(-1, 1, size=n) * grid) / grid
    cases.append({"labels": labels.tolist(), "scores": scores.tolist(),
                  "ap": float(average_precision_score(labels, scores))})
for labels, scores in (([1], [0.3]), ([1, 1, 1], [0.1, 0.5, 0.5]), ([0, 1, 0, 1], [0.2, 0.2, 0.2, 0.2]),
                       ([1, 0, 0, 0, 1], [0.9, 0.9, 0.1, 0.1, 0.1])):
    cases.append({"labels": labels, "scores": scores, "ap": float(average_precision_score(labels, scores))})


def normalize(x):
    n = np.sqrt((x * x).sum(axis=1, dtype=np.float32)).astype(np.float32)
    return (x / np.maximum(n, np.float32(1e-12))[:, None]).astype(np.float32)


DIM = 16
samples = []
aps, mrrs = [], []
for t in range(40):
    nq = 3 if t % 5 == 0 else 1
    npos, nneg = int(rng.randint(1, 5)), int(rng.randint(1, 25))
    q = rng.randn(nq, DIM).astype(np.float32)
    docs = rng.randn(npos + nneg, DIM).astype(np.float32)
    docs[:npos] += 0.8 * q[0]                        # positives lean towards the query
    if t % 3 == 0 and nneg > 1:
        docs[npos] = docs[0]                         # a negative tied with a positive
        docs[npos + 1] = docs[0]
    docs = docs.astype(np.float32)
    S = normalize(q) @ normalize(docs).T             # (nq, nd) float32
    s = S.max(axis=0).astype(np.float32)
    rel = [True] * npos + [False] * nneg
    ap = float(average_precision_score(rel, s.tolist()))
    order = np.argsort(-s, kind="stable")
    mrr = 0.0
    for rank, idx in enumerate(order[:10]):
        if rel[idx]:
            mrr = 1.0 / (rank + 1)
            break
    aps.append(ap)
    mrrs.append(mrr)
    samples.append({"queries": q.astype(float).tolist(), "docs": docs.astype(float).tolist(),
                    "n_pos": npos, "n_neg": nneg, "scores": s.astype(float).tolist(), "ap": ap, "mrr": mrr})

with open(os.path.join(OUT, "reranking_ref.json"), "w") as f:
    json.dump({"ap_cases": cases, "dim": DIM, "samples": samples,
               "map": float(np.mean(aps)), "mrr": float(np.mean(mrrs))}, f, separators=(",", ":"))
print("wrote reranking_ref.json: %d AP cases, %d samples, map %.6f mrr %.6f"
      % (len(cases), len(samples), np.mean(aps), np.mean(mrrs)))

# ---- the samples as a hub folder + precomputed vectors, for the evaluator end to end ----
# Queries "query <t>.<j>" (role query), documents "doc <t>.<j>" (role document);
# a list-of-queries sample keeps its list; one extra sample without negatives
# must be dropped.
E2E = os.path.join(OUT, "reranking_e2e")
os.makedirs(os.path.join(E2E, "data"), exist_ok=True)
os.makedirs(os.path.join(E2E, "model"), exist_ok=True)
texts, vecs = [], []
with open(os.path.join(E2E, "data", "test.jsonl"), "w") as f:
    for t, s in enumerate(samples):
        qs = ["query %d.%d" % (t, j) for j in range(len(s["queries"]))]
        ds = ["doc %d.%d" % (t, j) for j in range(len(s["docs"]))]
        texts += [(q, "query") for q in qs] + [(d, "document") for d in ds]
        vecs += s["queries"] + s["docs"]
        f.write(json.dumps({"query": qs if len(qs) > 1 else qs[0], "positive": ds[:s["n_pos"]],
                            "negative": ds[s["n_pos"]:]}) + "\n")
    f.write(json.dumps({"query": "query dropped", "positive": ["doc 0.0"], "negative": []}) + "\n")
with open(os.path.join(E2E, "model", "texts.jsonl"), "w") as f:
    for t, r in texts:
        f.write(json.dumps({"text": t, "role": r}) + "\n")
np.save(os.path.join(E2E, "model", "embeddings.npy"), np.asarray(vecs, dtype=np.float32))
with open(os.path.join(E2E, "expected.json"), "w") as f:
    json.dump({"scores": {"map": float(np.mean(aps)), "mrr": float(np.mean(mrrs))}, "n_samples": len(samples)}, f, indent=1)
