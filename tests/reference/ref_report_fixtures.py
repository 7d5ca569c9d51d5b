#!/usr/bin/python3
"""Writes the published-results fixtures for `cmteb report` (tests/fixtures/results/published/).

Source of the numbers: NV-Embed-v1's per-task scores in ../shared/spec/mteb-eng-v1-tasks.md
(the model card values the MTEB(eng, v1) leaderboard showed, x100, 2 decimals).

Three model folders, in the layouts MTEB results come in (mteb-protocol.md section 2):
  v1/NV-Embed-v1/<Task>.json                   v1 flat layout, fractions, nested metrics
                                               ({"test": {"cos_sim": {"ap": ...}}}), per-language
                                               nesting for STS17/STS22/multilingual classification,
                                               MSMARCO under "dev", CQADupstack as 12 subforum files
  current/nvidia__NV-Embed-v1/external/        current layout as the public results repository's
                                               model-card conversions: x100 values, cos_sim_* keys,
                                               main_score = max_ap for pair classification,
                                               MSMARCO stored under "test", no model_meta.json
  current/nvidia__NV-Embed-v1/570834afd5fef5bf3a3c2311a2b6e0a66f6f4f2c/
                                               current layout as mteb >= 1.14 writes it: fractions,
                                               cosine_* keys, model_meta.json, only 10 tasks (partial)

Every file also holds decoys (other metrics, other subsets, other splits with different values)
so that reading the wrong key changes the average. expected.json holds numpy's means of the
scores, independent of cmteb.

Run: /usr/bin/python3 tests/reference/ref_report_fixtures.py [SPEC_TABLE]
"""
import json
import os
import re
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "results", "published")
SPEC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared", "spec", "mteb-eng-v1-tasks.md")

CQA_FORUMS = ["Android", "English", "Gaming", "Gis", "Mathematica", "Physics",
              "Programmers", "Stats", "Tex", "Unix", "Webmasters", "Wordpress"]
# Offsets (x100) around the CQADupstack mean; they sum to zero so the 12 average to the card value.
CQA_OFFSETS = [-5.0, 5.0, -3.0, 3.0, -2.0, 2.0, -1.0, 1.0, 4.0, -4.0, 0.5, -0.5]


def read_table(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        m = re.match(r"\|\s*(\d+)\s*\|", line)
        if not m:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows.append({"task": cells[1], "type": cells[2], "split": cells[3], "subset": cells[5],
                     "revision": cells[7], "score": float(cells[8])})
    assert len(rows) == 56, len(rows)
    return rows


def dump(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


def r5(x):
    return round(x, 5)


# ---- v1 layout -------------------------------------------------------------------------------
def v1_split_body(row, s):
    """The evaluator dict of one split in the v1 layout; s is the score as a fraction."""
    t = row["type"]
    if t == "PairClassification":
        # cos_sim ap is what the leaderboard used; max and manhattan are higher on purpose.
        fn = lambda ap, acc: {"accuracy": acc, "accuracy_threshold": 0.81, "ap": ap, "f1": r5(ap - 0.05),
                              "f1_threshold": 0.8, "precision": 0.9, "recall": 0.8}
        return {"cos_sim": fn(s, 0.99), "dot": fn(r5(s - 0.002), 0.99), "euclidean": fn(s, 0.99),
                "manhattan": fn(r5(s + 0.0113), 0.995),
                "max": {"accuracy": 0.995, "ap": r5(s + 0.0113), "f1": r5(s - 0.04)}}
    if t in ("STS", "Summarization"):
        body = {"cos_sim": {"pearson": r5(s + 0.0066), "spearman": s},
                "euclidean": {"pearson": r5(s - 0.01), "spearman": r5(s - 0.0123)},
                "manhattan": {"pearson": r5(s - 0.011), "spearman": r5(s - 0.0131)}}
        if t == "Summarization":
            body = {"cos_sim": {"pearson": r5(s + 0.0066), "spearman": s},
                    "dot": {"pearson": r5(s - 0.02), "spearman": r5(s - 0.0171)}}
        return body
    if t == "Classification":
        return {"accuracy": s, "accuracy_stderr": 0.00929, "f1": r5(s - 0.0321), "f1_stderr": 0.00875,
                "main_score": s}
    if t == "Clustering":
        return {"v_measure": s, "v_measure_std": 0.01234}
    if t == "Reranking":
        return {"map": s, "mrr": r5(min(s + 0.0456, 0.999))}
    if t == "Retrieval":
        return {"ndcg_at_10": s, "ndcg_at_1": r5(s - 0.1), "map_at_10": r5(s - 0.0567), "recall_at_10": r5(min(s + 0.11, 0.999)),
                "mrr_at_10": r5(min(s + 0.03, 0.999)), "precision_at_1": r5(s - 0.1)}
    raise ValueError(t)


def v1_file(row, s, split=None):
    split = split or row["split"]
    body = v1_split_body(row, s)
    if row["subset"] != "default":
        decoy = v1_split_body(row, r5(s * 0.8))
        other = "de-de" if "-" in row["subset"] else "de"
        body = {row["subset"]: body, other: decoy}
    body["evaluation_time"] = 12.34
    obj = {split: body, "mteb_version": "1.1.1", "mteb_dataset_name": row["task"],
           "dataset_revision": row["revision"]}
    if row["task"] == "MSMARCO":
        # dev is the leaderboard split; a test split (TREC DL) is present with other numbers.
        obj["test"] = dict(v1_split_body(row, r5(s * 1.2)), evaluation_time=5.0)
    return obj


# ---- current layout --------------------------------------------------------------------------
def flat_entry(row, s, spelling, subset):
    """One entry of the "scores" list: flattened metrics; s as the file stores it."""
    t = row["type"]
    e = {"hf_subset": subset, "languages": ["eng-Latn"]}
    cos = "cos_sim" if spelling == "old" else "cosine"
    if t == "PairClassification":
        mx = s + (1.13 if s > 1 else 0.0113)
        for fn, ap in ((cos, s), ("dot", s - 0.2 if s > 1 else s - 0.002), ("euclidean", s), ("manhattan", mx)):
            e[f"{fn}_accuracy"] = 99.8 if s > 1 else 0.998
            e[f"{fn}_ap"] = ap
            e[f"{fn}_f1"] = ap - (5 if s > 1 else 0.05)
        e["max_ap"] = mx
        e["max_accuracy"] = 99.83 if s > 1 else 0.9983
        e["main_score"] = mx          # m1.12 wrote max ap as main_score
    elif t in ("STS", "Summarization"):
        e[f"{cos}_pearson"] = s + (0.66 if s > 1 else 0.0066)
        e[f"{cos}_spearman"] = s
        e["euclidean_spearman"] = s - (1.23 if s > 1 else 0.0123)
        e["manhattan_spearman"] = s - (1.31 if s > 1 else 0.0131)
        e["main_score"] = s
    elif t == "Classification":
        e["accuracy"] = s
        e["f1"] = s - (3.21 if s > 1 else 0.0321)
        e["main_score"] = s
    elif t == "Clustering":
        e["v_measure"] = s
        e["v_measure_std"] = 1.234 if s > 1 else 0.01234
        e["main_score"] = s
    elif t == "Reranking":
        e["map"] = s
        e["mrr"] = s + (4.56 if s > 1 else 0.0456)
        e["main_score"] = s
    elif t == "Retrieval":
        e["ndcg_at_10"] = s
        e["map_at_10"] = s - (5.67 if s > 1 else 0.0567)
        e["ndcg_at_100"] = 0           # the card omitted it: the conversion stores 0
        e["main_score"] = s
    return e


def current_file(row, s, spelling, split, mteb_version):
    subset = row["subset"]
    entries = [flat_entry(row, s, spelling, subset)]
    if subset != "default":
        other = "de-de" if "-" in subset else "de"
        entries.insert(0, flat_entry(row, s * 0.8, spelling, other))
    return {"dataset_revision": row["revision"], "task_name": row["task"], "evaluation_time": None,
            "mteb_version": mteb_version, "scores": {split: entries}, "kg_co2_emissions": None}


def main():
    rows = read_table(SPEC)
    if os.path.isdir(OUT):
        for sub in ("v1", "current"):
            shutil.rmtree(os.path.join(OUT, sub), ignore_errors=True)

    # v1 flat layout.
    v1 = os.path.join(OUT, "v1", "NV-Embed-v1")
    for row in rows:
        s = r5(row["score"] / 100)
        if row["task"] == "CQADupstackRetrieval":
            for forum, off in zip(CQA_FORUMS, CQA_OFFSETS):
                name = f"CQADupstack{forum}Retrieval"
                sub = dict(row, task=name)
                dump(os.path.join(v1, name + ".json"), v1_file(sub, r5((row["score"] + off) / 100)))
            continue
        dump(os.path.join(v1, row["task"] + ".json"), v1_file(row, s))

    # Current layout, model-card conversion: x100 values, old spellings, MSMARCO under "test".
    ext = os.path.join(OUT, "current", "nvidia__NV-Embed-v1", "external")
    for row in rows:
        dump(os.path.join(ext, row["task"] + ".json"),
             current_file(row, row["score"], "old", "test", None))

    # Current layout as mteb >= 1.14 writes it, 10 tasks only.
    rev = "570834afd5fef5bf3a3c2311a2b6e0a66f6f4f2c"
    cur = os.path.join(OUT, "current", "nvidia__NV-Embed-v1", rev)
    partial = ["Banking77Classification", "EmotionClassification", "TwentyNewsgroupsClustering",
               "SprintDuplicateQuestions", "SciDocsRR", "SciFact", "MSMARCO", "STS17", "STSBenchmark", "SummEval"]
    for row in rows:
        if row["task"] in partial:
            dump(os.path.join(cur, row["task"] + ".json"),
                 current_file(row, row["score"] / 100, "new", row["split"], "1.14.0"))
    dump(os.path.join(cur, "model_meta.json"),
         {"name": "nvidia/NV-Embed-v1", "revision": rev, "embed_dim": 4096, "max_tokens": 32768,
          "similarity_fn_name": "cosine", "use_instructions": True, "loader": "NvEmbedWrapper"})

    # What a correct reader must print: numpy means of the scores (x100).
    scores = np.array([r["score"] for r in rows])
    cats = {}
    for t in sorted(set(r["type"] for r in rows)):
        v = np.array([r["score"] for r in rows if r["type"] == t])
        cats[t] = {"mean": float(v.mean()), "n": int(v.size)}
    part = np.array([r["score"] for r in rows if r["task"] in partial])
    expected = {
        "source": "NV-Embed-v1 per-task scores, ../shared/spec/mteb-eng-v1-tasks.md; means by numpy",
        "tasks": {r["task"]: r["score"] for r in rows},
        "average": float(scores.mean()),
        "categories": cats,
        "partial_tasks": partial,
        "partial_average": float(part.mean()),
    }
    dump(os.path.join(OUT, "expected.json"), expected)
    print(f"wrote fixtures under {OUT}: average {expected['average']:.4f}, partial {expected['partial_average']:.4f}")


if __name__ == "__main__":
    main()
