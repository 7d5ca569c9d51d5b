#!/usr/bin/python3
"""ref_npfloat.py: writes tests/fixtures/sts/npfloat.json: float32 rows of many
widths (including zero rows and duplicates) with numpy's np.einsum("ij,ij->i")
and np.sum(axis=-1) results and scikit-learn's paired cosine / manhattan /
euclidean values, all float32, which tasks/metrics/npfloat.c must reproduce
bit for bit. Run: /usr/bin/python3 tests/reference/ref_npfloat.py
"""
import json
import os

import numpy as np
from sklearn.metrics.pairwise import (paired_cosine_distances,
                                      paired_euclidean_distances,
                                      paired_manhattan_distances)

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "sts")
rng = np.random.RandomState(99)
cases = []
for d in (1, 5, 8, 15, 16, 17, 33, 100, 129, 384, 1030):
    n = 6
    a = (rng.randn(n, d) * rng.uniform(0.01, 10)).astype(np.float32)
    b = (a * 0.7 + rng.randn(n, d).astype(np.float32) * 0.3).astype(np.float32)
    a[0] = 0            # zero row against a non-zero one
    a[1] = 0; b[1] = 0  # two zero rows
    b[2] = a[2]         # identical rows
    cases.append({
        "d": d, "a": a.astype(float).tolist(), "b": b.astype(float).tolist(),
        "einsum": np.einsum("ij,ij->i", a, b).astype(float).tolist(),
        "sum": np.abs(a - b).sum(axis=-1).astype(float).tolist(),
        "cosine": (1 - paired_cosine_distances(a, b)).astype(float).tolist(),
        "manhattan": paired_manhattan_distances(a, b).astype(float).tolist(),
        "euclidean": paired_euclidean_distances(a, b).astype(float).tolist(),
    })
with open(os.path.join(OUT, "npfloat.json"), "w") as f:
    json.dump({"numpy": np.__version__, "cases": cases}, f)
print("wrote", OUT)
