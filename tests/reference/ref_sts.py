#!/usr/bin/python3
"""ref_sts.py: writes tests/fixtures/sts/*.json, the STS reference values.

Run with Debian's python3 (python3-numpy, python3-scipy, python3-sklearn):
    /usr/bin/python3 tests/reference/ref_sts.py
The C test tests/unit/test_sts_metrics.c recomputes everything from the same
inputs and compares.

Fixtures:
  sts_metrics.json  float32 vector pairs + gold scores (with ties in gold and
                    in similarity), and what MTEB v1's STSEvaluator computes:
                    sklearn paired cosine/manhattan/euclidean, scipy pearsonr
                    and spearmanr.
  correlation.json  pearsonr/spearmanr statistics and p-values on assorted
                    inputs (ties, small n, perfect correlation), and
                    scipy.special.betainc values.
"""
import json
import os

import numpy as np
import scipy
from scipy import special, stats
from sklearn.metrics.pairwise import (paired_cosine_distances,
                                      paired_euclidean_distances,
                                      paired_manhattan_distances)

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "sts")
os.makedirs(OUT, exist_ok=True)
rng = np.random.RandomState(20261130)


def sts_case(n, d, ties, zeros=False):
    a = rng.randn(n, d).astype(np.float32)
    b = (a * rng.uniform(-0.5, 1.0, size=(n, 1)) + rng.randn(n, d) * 0.8).astype(np.float32)
    if zeros:                   # texts without known words (GloVe) embed to zero vectors
        a[0:4] = 0
        b[2:7] = 0
    if ties:
        b[5:15] = b[5]          # repeated vectors -> tied similarities
        a[5:15] = a[5]
    gold = np.round(rng.uniform(0, 5, size=n) * 2) / 2  # half-point grid: many ties
    lo, hi = 0.0, 5.0
    g = (gold - lo) / (hi - lo)
    cos = 1 - paired_cosine_distances(a, b)
    man = -paired_manhattan_distances(a, b)
    euc = -paired_euclidean_distances(a, b)
    out = {"n": n, "d": d, "a": a.astype(float).tolist(), "b": b.astype(float).tolist(),
           "gold": gold.tolist(), "min_score": lo, "max_score": hi}
    for name, s in (("cosine", cos), ("manhattan", man), ("euclidean", euc)):
        out[name + "_pearson"] = float(stats.pearsonr(s, g)[0])
        out[name + "_spearman"] = float(stats.spearmanr(s, g)[0])
    return out


cases = [sts_case(300, 16, True), sts_case(57, 8, False), sts_case(120, 8, False, zeros=True)]
with open(os.path.join(OUT, "sts_metrics.json"), "w") as f:
    json.dump({"scipy": scipy.__version__, "cases": cases}, f)

corr = []
for n in (3, 4, 7, 20, 100, 1000):
    x = rng.randn(n)
    y = 0.3 * x + rng.randn(n)
    if n >= 20:
        x[:5] = x[0]            # ties
        y = np.round(y, 1)
    p = stats.pearsonr(x, y)
    s = stats.spearmanr(x, y)
    corr.append({"x": x.tolist(), "y": y.tolist(), "pearson": float(p[0]), "pearson_p": float(p[1]),
                 "spearman": float(s[0]), "spearman_p": float(s[1]),
                 "ranks_x": stats.rankdata(x).tolist()})
beta = []
for a, b, x in ((0.5, 0.5, 0.3), (2.0, 3.0, 0.4), (49.0, 49.0, 0.1), (10.0, 0.5, 0.9), (0.5, 120.0, 0.01),
                (300.0, 300.0, 0.47), (1.0, 1.0, 0.25)):
    beta.append({"a": a, "b": b, "x": x, "value": float(special.betainc(a, b, x))})
with open(os.path.join(OUT, "correlation.json"), "w") as f:
    json.dump({"scipy": scipy.__version__, "correlation": corr, "betainc": beta}, f)
print("wrote", OUT)
