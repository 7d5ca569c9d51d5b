#!/usr/bin/python3
"""Reference values for the paired bootstrap in reports/bootstrap.c.

Writes tests/fixtures/results/bootstrap_ref.json with:
  * three per-item data sets (spearman with tied predictions and gold, ap with tied scores, mean);
  * 25 resamples given as explicit index lists, and for each data set the statistic computed on
    the MATERIALISED resample by scipy.stats.spearmanr / sklearn.metrics.average_precision_score /
    numpy.mean. cmteb computes them from multiplicities on presorted orders; the test compares.
  * a paired baseline/candidate pair per kind and numpy's paired-bootstrap p-values and 95%
    percentile interval over 20000 resamples (numpy's own generator): the C bootstrap uses its
    own generator, so the test compares within Monte Carlo error.

Run: /usr/bin/python3 tests/reference/ref_report_bootstrap.py
"""
import json
import os

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "results", "bootstrap_ref.json")
rng = np.random.default_rng(20240601)


def stat(kind, x, y):
    if kind == "spearman":
        return float(spearmanr(x, y).correlation)
    if kind == "ap":
        return float(average_precision_score(y, x))
    return float(np.mean(x))


def main():
    n = 60
    # Spearman: gold on a coarse grid (many ties), predictions rounded (some ties).
    gold = rng.integers(0, 11, n) / 2.0
    pred_a = np.round(gold / 5 + rng.normal(0, 0.35, n), 2)
    pred_b = np.round(gold / 5 + rng.normal(0, 0.25, n), 2)
    # AP: scores rounded to one decimal (tied thresholds), 0/1 labels.
    labels = (rng.random(n) < 0.4).astype(int)
    labels[0], labels[1] = 1, 0
    scores_a = np.round(labels * 0.3 + rng.random(n) * 0.8, 1)
    scores_b = np.round(labels * 0.5 + rng.random(n) * 0.8, 1)
    # Mean: per-query values with repeats.
    vals_a = np.round(rng.random(n), 3)
    vals_b = np.clip(np.round(vals_a + rng.normal(0.03, 0.1, n), 3), 0, 1)

    sets = {
        "spearman": {"x": pred_a.tolist(), "y": gold.tolist()},
        "ap": {"x": scores_a.tolist(), "y": labels.tolist()},
        "mean": {"x": vals_a.tolist(), "y": None},
    }
    resamples = [rng.integers(0, n, n).tolist() for _ in range(25)]
    for kind, d in sets.items():
        x = np.array(d["x"])
        y = None if d["y"] is None else np.array(d["y"])
        d["full"] = stat(kind, x, y)
        out = []
        for idx in resamples:
            idx = np.array(idx)
            if kind == "ap" and y[idx].sum() == 0:
                out.append(None)
                continue
            out.append(stat(kind, x[idx], None if y is None else y[idx]))
        d["resampled"] = out

    # Paired bootstraps (B = 20000, numpy generator) for p-values and intervals.
    B = 20000
    pairs = {
        "spearman": (pred_a, pred_b, gold),
        "ap": (scores_a, scores_b, labels),
        "mean": (vals_a, vals_b, None),
    }
    boot = {}
    brng = np.random.default_rng(7)
    for kind, (a, b, y) in pairs.items():
        deltas = []
        for _ in range(B):
            idx = brng.integers(0, n, n)
            if kind == "ap" and y[idx].sum() == 0:
                continue
            yy = None if y is None else y[idx]
            deltas.append(stat(kind, b[idx], yy) - stat(kind, a[idx], yy))
        deltas = np.array(deltas)
        m = deltas.size
        p_worse = (1 + np.sum(deltas >= 0)) / (m + 1)
        p_better = (1 + np.sum(deltas <= 0)) / (m + 1)
        boot[kind] = {
            "baseline": a.tolist(), "candidate": b.tolist(), "y": None if y is None else y.tolist(),
            "observed": stat(kind, b, y) - stat(kind, a, y),
            "p_worse": float(p_worse), "p_better": float(p_better),
            "p_two_sided": float(min(1.0, 2 * min(p_worse, p_better))),
            "ci_lo": float(np.percentile(deltas, 2.5)), "ci_hi": float(np.percentile(deltas, 97.5)),
            "resamples": B,
        }

    ref = {"source": "scipy.stats.spearmanr, sklearn.metrics.average_precision_score, numpy.mean on "
                     "materialised resamples; numpy paired bootstrap (B=20000)",
           "n": n, "resamples": resamples, "sets": sets, "bootstrap": boot}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(ref, f)
        f.write("\n")
    print("wrote", OUT, {k: round(v["p_two_sided"], 4) for k, v in boot.items()})


if __name__ == "__main__":
    main()
