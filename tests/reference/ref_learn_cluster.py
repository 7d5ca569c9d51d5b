#!/usr/bin/python3
"""Writes tests/fixtures/learning/cluster.json: scikit-learn's
homogeneity_completeness_v_measure on label pairs (random, degenerate,
non-dense, empty) and MiniBatchKMeans(n_init="auto", random_state=
RandomState(seed)) on small float32 blob sets (labels_, n_steps_, inertia_,
and the rows k-means++ picked as initial centres), for test_vmeasure and
test_kmeans.

Run with Debian's python3-sklearn: /usr/bin/python3 tests/reference/ref_learn_cluster.py
"""
import json
import os
import warnings

import numpy as np
import sklearn
from sklearn.cluster import MiniBatchKMeans, kmeans_plusplus
from sklearn.metrics import homogeneity_completeness_v_measure

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "learning", "cluster.json")


def mat(A):
    A = np.asarray(A, dtype=np.float32)
    return {"rows": A.shape[0], "cols": A.shape[1],
            "data": " ".join(np.format_float_positional(v, unique=True, trim="-") for v in A.ravel())}


def vm_cases():
    rs = np.random.RandomState(5)
    pairs = []
    for n, a, b in ((10, 3, 3), (100, 5, 8), (1000, 20, 20), (997, 7, 2), (50, 50, 3)):
        pairs.append((rs.randint(0, a, n), rs.randint(0, b, n)))
    t = rs.randint(0, 4, 200)
    pairs.append((t, t.copy()))                       # perfect
    pairs.append((t, (t + 1) % 4))                    # perfect up to renaming
    pairs.append((t, np.zeros(200, int)))             # one cluster
    pairs.append((np.zeros(200, int), t))             # one class
    pairs.append((np.zeros(7, int), np.zeros(7, int)))
    pairs.append((t, np.arange(200)))                 # all singletons
    pairs.append((np.arange(30), np.arange(30)))
    pairs.append((np.array([-5, 7, 7, 100, -5, 3]), np.array([9, 9, -1, 4, 4, 4])))  # non-dense, negative
    pairs.append((np.array([], int), np.array([], int)))
    pairs.append((np.array([1]), np.array([2])))
    out = []
    for a, b in pairs:
        h, c, v = homogeneity_completeness_v_measure(a, b)
        out.append({"true": [int(x) for x in a], "pred": [int(x) for x in b], "h": h, "c": c, "v": v})
    return out


def blobs(rs, k, n, d, spread):
    centers = rs.normal(0, 1, (k, d)) * 3
    y = rs.randint(0, k, n)
    # rounded to 3 decimals so the fixture stays small (the float32 values are what counts)
    return np.round(centers[y] + spread * rs.normal(0, 1, (n, d)), 3).astype(np.float32), y


def km_case(name, X, y, k, batch, seed):
    n = X.shape[0]
    km = MiniBatchKMeans(n_clusters=k, batch_size=batch, n_init="auto", random_state=np.random.RandomState(seed))
    km.fit(X)
    # the rows k-means++ picked, drawn again from the same stream
    rs = np.random.RandomState(seed)
    b = min(batch, n)
    init_size = 3 * b
    if init_size < k:
        init_size = 3 * k
    init_size = min(init_size, n)
    rs.randint(0, n, init_size)
    sub = rs.randint(0, n, init_size) if init_size < n else np.arange(n)
    _, idx = kmeans_plusplus(X[sub], k, random_state=rs)
    return {"name": name, "k": k, "batch": batch, "seed": seed, "X": mat(X), "y": [int(v) for v in y],
            "labels": [int(v) for v in km.labels_], "n_steps": int(km.n_steps_), "inertia": float(km.inertia_),
            "init_rows": [int(v) for v in sub[idx]]}


def km_cases():
    rs = np.random.RandomState(11)
    out = []
    X, y = blobs(rs, 4, 300, 5, 0.5)
    out.append(km_case("separated_small_batch", X, y, 4, 50, 42))
    X, y = blobs(rs, 6, 500, 6, 1.5)
    out.append(km_case("overlapping", X, y, 6, 100, 42))
    X, y = blobs(rs, 10, 300, 8, 2.5)
    out.append(km_case("init_is_all_data", X, y, 10, 500, 42))
    X, y = blobs(rs, 25, 500, 6, 1.0)
    out.append(km_case("many_clusters", X, y, 25, 100, 7))
    return out


def main():
    warnings.simplefilter("ignore")
    doc = {"sklearn": sklearn.__version__, "v_measure": vm_cases(), "kmeans": km_cases()}
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
