#!/usr/bin/python3
"""ref_rank_pairclass.py: writes tests/fixtures/ranking/pairclass_ref.json.

Run with Debian's python3 (python3-numpy, python3-sklearn):
    /usr/bin/python3 tests/reference/ref_rank_pairclass.py

MTEB's PairClassificationEvaluator (m1.1 / m1.12) on float32 vector pairs:
scores from sklearn's paired_cosine_distances (1 - d), paired_euclidean /
paired_manhattan_distances and np.dot; accuracy and F1 with their thresholds
by the strict-maximum sweeps over Python's stable sort (rows 0..n-2, midpoint
thresholds in float32); AP = average_precision_score(labels, scores * (1 or -1));
and the max block. Cases: random pairs, pairs with ties (repeated pairs, so
equal scores across labels), and the demo-sized case of 20 pairs.
The C test tests/unit/test_pairclass.c compares: scores to 1e-6, accuracy,
F1, precision, recall and AP to 1e-9 when computed from the reference's own
float32 scores, thresholds to 1e-6 from ours.
"""
import json
import os

import numpy as np

from ref_rank_lib import evaluate

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "ranking")
os.makedirs(OUT, exist_ok=True)
rng = np.random.RandomState(1157)


cases = []
for n, dim, ties in ((200, 16, False), (150, 8, True), (20, 32, False)):
    a = rng.randn(n, dim).astype(np.float32)
    labels = rng.randint(0, 2, size=n)
    b = (a * (labels[:, None] * 0.7 + 0.1) + rng.randn(n, dim) * 0.9).astype(np.float32)
    if ties:
        for i in range(0, 40, 4):          # repeated pairs with mixed labels: equal scores
            a[i + 1:i + 4] = a[i]
            b[i + 1:i + 4] = b[i]
        a[50] = b[50]                      # identical sentences: cosine exactly 1
        labels[:40:2] = 1 - labels[:40:2]
    expected, raw = evaluate(a, b, labels.tolist())
    cases.append({"n": n, "dim": dim, "a": a.astype(float).tolist(), "b": b.astype(float).tolist(),
                  "labels": labels.tolist(), "scores": raw, "expected": expected})

with open(os.path.join(OUT, "pairclass_ref.json"), "w") as f:
    json.dump({"cases": cases}, f, separators=(",", ":"))
print("wrote pairclass_ref.json:", ", ".join("n=%d cosine_ap=%.6f" % (c["n"], c["expected"]["cosine_ap"]) for c in cases))

# ---- case 2 (ties) as a hub folder + precomputed vectors, for the evaluator end to end ----
# Sentences are "left <i>" / "right <i>"; repeated pairs repeat the text too,
# so the evaluator's de-duplication is exercised.
E2E = os.path.join(OUT, "pairclass_e2e")
os.makedirs(os.path.join(E2E, "data"), exist_ok=True)
os.makedirs(os.path.join(E2E, "model"), exist_ok=True)
c = cases[1]
a, b = np.asarray(c["a"], dtype=np.float32), np.asarray(c["b"], dtype=np.float32)
texts, vecs, name_of = [], [], {}
def name(prefix, i, v):
    key = (prefix, v.tobytes())
    if key not in name_of:
        name_of[key] = "%s %d" % (prefix, i)
        texts.append(name_of[key])
        vecs.append(v)
    return name_of[key]
s1 = [name("left", i, a[i]) for i in range(len(a))]
s2 = [name("right", i, b[i]) for i in range(len(b))]
with open(os.path.join(E2E, "data", "test.jsonl"), "w") as f:
    f.write(json.dumps({"sent1": s1, "sent2": s2, "labels": c["labels"]}) + "\n")
with open(os.path.join(E2E, "model", "texts.jsonl"), "w") as f:
    for t in texts:
        f.write(json.dumps({"text": t}) + "\n")
np.save(os.path.join(E2E, "model", "embeddings.npy"), np.stack(vecs).astype(np.float32))
with open(os.path.join(E2E, "expected.json"), "w") as f:
    json.dump({"scores": c["expected"]}, f, indent=1)
