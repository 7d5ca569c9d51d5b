#!/usr/bin/python3
"""Writes tests/fixtures/learning/logreg.json: scikit-learn's
LogisticRegression(max_iter=100) (lbfgs, C=1, tol=1e-4, as MTEB configures
it) on small synthetic float32 data sets, binary and multinomial, some
converging and some stopped at max_iter, plus the classification metrics
MTEB computes on its predictions, for test_logreg to compare with cmteb.

Run with Debian's python3-sklearn: /usr/bin/python3 tests/reference/ref_learn_logreg.py
"""
import json
import os
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, average_precision_score, f1_score

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "learning", "logreg.json")


def blobs(rs, k, n_per, d, spread, n_test):
    centers = rs.normal(0, 1, (k, d))
    def draw(m):
        y = np.repeat(np.arange(k), m)
        X = centers[y] + spread * rs.normal(0, 1, (len(y), d))
        return X.astype(np.float32), y
    X, y = draw(n_per)
    Xt, yt = draw(n_test)
    return X, y, Xt, yt


def mat(A):
    """A float32 matrix as {"rows", "cols", "data"}: data holds the shortest
    decimal form of each float32, space separated (strtof reads it back exactly)."""
    A = np.asarray(A, dtype=np.float32)
    return {"rows": A.shape[0], "cols": A.shape[1],
            "data": " ".join(np.format_float_positional(v, unique=True, trim="-") for v in A.ravel())}


def case(name, X, y, Xt, yt, **kw):
    clf = LogisticRegression(random_state=42, n_jobs=1, max_iter=100, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    pred = clf.predict(Xt)
    c = {"name": name, "C": kw.get("C", 1.0), "X": mat(X), "y": y.tolist(), "Xt": mat(Xt), "yt": yt.tolist(),
         "coef": clf.coef_.tolist(), "intercept": clf.intercept_.tolist(), "n_iter": int(clf.n_iter_[0]),
         "pred": pred.tolist(), "accuracy": accuracy_score(yt, pred),
         "f1": f1_score(yt, pred, average="macro"), "f1_weighted": f1_score(yt, pred, average="weighted")}
    if len(np.unique(y)) == 2:
        c["ap"] = average_precision_score(yt, pred)
    return c


def main():
    rs = np.random.RandomState(0)
    cases = []
    cases.append(case("binary", *blobs(rs, 2, 30, 10, 1.5, 25)))
    cases.append(case("binary_strong_reg", *blobs(rs, 2, 30, 10, 1.5, 25), C=0.05))
    cases.append(case("multi5_noisy", *blobs(rs, 5, 20, 8, 1.2, 30)))
    cases.append(case("multi4_fewshot", *blobs(rs, 4, 8, 16, 0.8, 25)))
    cases.append(case("multi6_highdim", *blobs(rs, 6, 8, 40, 0.5, 10)))
    cases.append(case("multi3_scaled", *[(a * 30).astype(np.float32) if a.dtype == np.float32 else a
                                          for a in blobs(rs, 3, 10, 12, 1.0, 20)]))
    # stopped at max_iter=100 (noisy, scaled few-shot data, as MTEB runs often are)
    Xa, ya, Xb, yb = blobs(rs, 6, 8, 20, 3.0, 10)
    cases.append(case("multi6_maxiter", Xa * np.float32(3), ya, Xb * np.float32(3), yb))
    # MTEB-like: features that are not separable at all (labels independent of X)
    X = rs.normal(0, 1, (48, 6)).astype(np.float32)
    y = rs.randint(0, 3, 48)
    Xt = rs.normal(0, 1, (30, 6)).astype(np.float32)
    yt = rs.randint(0, 3, 30)
    cases.append(case("multi3_random", X, y, Xt, yt))
    for c in cases:
        print(c["name"], "n_iter", c["n_iter"], "acc", round(c["accuracy"], 4))
    with open(OUT, "w") as f:
        json.dump({"sklearn": sklearn.__version__, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
