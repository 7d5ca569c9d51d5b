#!/usr/bin/python3
"""learning_bench.py DIR [make|clf|cluster]: the scikit-learn side of
bench/learning_bench.sh.

make     writes DIR/*.npy: a Banking77-sized classification set (10,003 train /
         3,080 test rows, 77 classes, dim 300, Gaussian class blobs) and a
         10,000-document clustering set (20 labels, dim 300), float32.
clf      MTEB's classification protocol on them (10 chained RandomState(42)
         undersamplings of 8 rows per label, LogisticRegression(max_iter=100),
         predict, accuracy / macro F1), timed.
cluster  np.random.seed(42); MiniBatchKMeans(n_clusters=20, batch_size=500,
         n_init="auto") + v_measure_score, timed.
Prints one JSON line like bench/learning_bench.c.
"""
import json
import os
import sys
import time
import warnings
from collections import defaultdict

import numpy as np


def make(d):
    rs = np.random.RandomState(0)
    k, dim = 77, 300
    centers = rs.normal(0, 1, (k, dim))
    p = rs.dirichlet(np.ones(k) * 5)
    ytr = rs.choice(k, 10003, p=p)
    yte = rs.choice(k, 3080, p=p)
    Xtr = (centers[ytr] + 3.5 * rs.normal(0, 1, (len(ytr), dim))).astype(np.float32)
    Xte = (centers[yte] + 3.5 * rs.normal(0, 1, (len(yte), dim))).astype(np.float32)
    np.save(os.path.join(d, "clf_Xtrain.npy"), Xtr)
    np.save(os.path.join(d, "clf_ytrain.npy"), ytr.astype(np.float32).reshape(-1, 1))
    np.save(os.path.join(d, "clf_Xtest.npy"), Xte)
    np.save(os.path.join(d, "clf_ytest.npy"), yte.astype(np.float32).reshape(-1, 1))
    kc = 20
    cc = rs.normal(0, 1, (kc, dim)) * 0.35
    y = rs.randint(0, kc, 10000)
    X = (cc[y] + rs.normal(0, 1, (len(y), dim))).astype(np.float32)
    np.save(os.path.join(d, "clu_X.npy"), X)
    np.save(os.path.join(d, "clu_y.npy"), y.astype(np.float32).reshape(-1, 1))


def clf(d):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    Xtr = np.load(os.path.join(d, "clf_Xtrain.npy"))
    ytr = np.load(os.path.join(d, "clf_ytrain.npy")).ravel().astype(int)
    Xte = np.load(os.path.join(d, "clf_Xtest.npy"))
    yte = np.load(os.path.join(d, "clf_ytest.npy")).ravel().astype(int)
    t0 = time.perf_counter()
    idxs = np.arange(len(ytr))
    acc = f1 = fit_s = iters = 0.0
    for _ in range(10):
        np.random.seed(42)
        np.random.shuffle(idxs)
        cnt = defaultdict(int)
        sel = []
        for i in idxs:
            if cnt[ytr[i]] < 8:
                sel.append(i)
                cnt[ytr[i]] += 1
        clf = LogisticRegression(random_state=42, n_jobs=-1, max_iter=100)
        tf = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(Xtr[sel], ytr[sel])
        fit_s += time.perf_counter() - tf
        iters += clf.n_iter_[0]
        pred = clf.predict(Xte)
        acc += accuracy_score(yte, pred)
        f1 += f1_score(yte, pred, average="macro")
    secs = time.perf_counter() - t0
    print(json.dumps({"seconds": round(secs, 4), "fit_seconds": round(fit_s, 4), "score": round(acc / 10, 6),
                      "f1": round(f1 / 10, 6), "mean_n_iter": iters / 10}))


def cluster(d):
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.metrics import v_measure_score
    X = np.load(os.path.join(d, "clu_X.npy"))
    y = np.load(os.path.join(d, "clu_y.npy")).ravel().astype(int)
    t0 = time.perf_counter()
    np.random.seed(42)
    km = MiniBatchKMeans(n_clusters=len(set(y)), batch_size=500, n_init="auto")
    km.fit(X)
    v = v_measure_score(y, km.labels_)
    secs = time.perf_counter() - t0
    print(json.dumps({"seconds": round(secs, 4), "score": round(v, 6), "n_steps": int(km.n_steps_)}))


if __name__ == "__main__":
    {"make": make, "clf": clf, "cluster": cluster}[sys.argv[2]](sys.argv[1])
