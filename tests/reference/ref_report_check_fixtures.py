#!/usr/bin/python3
"""Writes results folders with per-item side files for `cmteb check` / `compare` tests
(tests/fixtures/results/check/).

Three tasks of the catalog, one per kind of per-item data (include/cmteb/evaluator.h):
  SciFact                   "mean"      per-query ndcg@10 (300 queries); main = mean
  STSBenchmark              "spearman"  predicted similarity vs gold (400 pairs); main = Spearman
  SprintDuplicateQuestions  "ap"        cosine scores vs 0/1 labels (400 pairs); main = AP
The main scores in the results files are computed here by numpy / scipy.stats.spearmanr /
sklearn.metrics.average_precision_score from the same items, rounded to 5 decimals as mteb does.

Folders (current layout, <org>__<model>/<revision>/ + .cmteb/<Task>.items.json):
  baseline/    the reference run
  small_drop/  SciFact: every query 0.003 lower (0.30 points, under a 0.5 tolerance, but the same
               direction on every query: significant); the others identical
  noise/       STSBenchmark: predictions with noise, Spearman 0.1-0.3 points lower, not significant;
               the others identical
expected.json gives each candidate's numpy paired-bootstrap one-sided p (B = 10000).

Run: /usr/bin/python3 tests/reference/ref_report_check_fixtures.py
"""
import json
import os
import shutil

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "results", "check")
rng = np.random.default_rng(12345)
MODEL = "cmteb-test__tiny-model"
REV = "1"


def items_main(kind, items):
    if kind == "mean":
        return float(np.mean(items["values"]))
    if kind == "spearman":
        return float(spearmanr(items["pred"], items["gold"]).correlation)
    return float(average_precision_score(items["labels"], items["scores"]))


def write_run(name, tasks):
    d = os.path.join(OUT, name, MODEL, REV)
    os.makedirs(os.path.join(d, ".cmteb"), exist_ok=True)
    for task, (kind, metric, split, items) in tasks.items():
        main = round(items_main(kind, items), 5)
        res = {"dataset_revision": "fixture", "task_name": task, "mteb_version": "1.12.0",
               "scores": {split: [{metric: main, "main_score": main, "hf_subset": "default",
                                   "languages": ["eng-Latn"]}]},
               "evaluation_time": 1.0, "kg_co2_emissions": None}
        with open(os.path.join(d, task + ".json"), "w") as f:
            json.dump(res, f, indent=2)
        with open(os.path.join(d, ".cmteb", task + ".items.json"), "w") as f:
            json.dump(dict(kind=kind, **items), f)
    with open(os.path.join(d, "model_meta.json"), "w") as f:
        json.dump({"name": MODEL.replace("__", "/"), "revision": REV, "embed_dim": 8, "loader": "fixture"}, f, indent=2)


def paired_p_worse(kind, base, cand, B=10000):
    brng = np.random.default_rng(99)
    keys = {"mean": ["values"], "spearman": ["pred", "gold"], "ap": ["scores", "labels"]}[kind]
    n = len(base[keys[0]])
    ge = 0
    for _ in range(B):
        idx = brng.integers(0, n, n)
        b = {k: np.asarray(base[k])[idx] for k in keys}
        c = {k: np.asarray(cand[k])[idx] for k in keys}
        ge += items_main(kind, c) - items_main(kind, b) >= 0
    return (1 + ge) / (B + 1)


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    nq, ns, npc = 300, 400, 400
    ndcg = np.round(np.clip(rng.beta(2, 1.2, nq), 0, 1), 5)
    qids = [f"q{i}" for i in range(nq)]
    gold = np.round(rng.uniform(0, 5, ns), 2)
    pred = np.round(gold / 5 * 0.6 + rng.normal(0, 0.15, ns), 4)
    labels = (rng.random(npc) < 0.3).astype(int)
    scores = np.round(labels * 0.25 + rng.random(npc) * 0.7, 4)

    base = {
        "SciFact": ("mean", "ndcg_at_10", "test", {"ids": qids, "values": ndcg.tolist()}),
        "STSBenchmark": ("spearman", "cosine_spearman", "test", {"pred": pred.tolist(), "gold": gold.tolist()}),
        "SprintDuplicateQuestions": ("ap", "cosine_ap", "test", {"scores": scores.tolist(), "labels": labels.tolist()}),
    }
    write_run("baseline", base)

    small = dict(base)
    # Shuffled ids order: pairing must go by id.
    order = rng.permutation(nq)
    lowered = np.clip(ndcg - 0.003, 0, 1)
    small["SciFact"] = ("mean", "ndcg_at_10", "test",
                        {"ids": [qids[i] for i in order], "values": [round(float(lowered[i]), 5) for i in order]})
    write_run("small_drop", small)

    noise = dict(base)
    noisy = None
    for _ in range(200):
        cand = np.round(pred + rng.normal(0, 0.02, ns), 4)
        drop = items_main("spearman", {"pred": pred, "gold": gold}) - items_main("spearman", {"pred": cand, "gold": gold})
        if 0.001 < drop < 0.003:
            noisy = cand
            break
    assert noisy is not None
    noise["STSBenchmark"] = ("spearman", "cosine_spearman", "test", {"pred": noisy.tolist(), "gold": gold.tolist()})
    write_run("noise", noise)

    exp = {
        "small_drop": {"task": "SciFact", "delta_points": 100 * (float(np.mean(lowered)) - float(np.mean(ndcg))),
                       "p_worse": paired_p_worse("mean", base["SciFact"][3], {"values": lowered.tolist()})},
        "noise": {"task": "STSBenchmark",
                  "delta_points": 100 * (items_main("spearman", {"pred": noisy, "gold": gold}) -
                                         items_main("spearman", {"pred": pred, "gold": gold})),
                  "p_worse": paired_p_worse("spearman", base["STSBenchmark"][3], {"pred": noisy, "gold": gold})},
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(exp, f, indent=2)
    print(json.dumps(exp, indent=1))


if __name__ == "__main__":
    main()
