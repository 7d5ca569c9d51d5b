#!/usr/bin/python3
"""ref_rank_summarization.py: writes tests/fixtures/ranking/summarization_ref.json.

Run with Debian's python3 (python3-numpy, python3-scipy, python3-torch):
    /usr/bin/python3 tests/reference/ref_rank_summarization.py

MTEB v1's SummarizationEvaluator on float32 embeddings, step by step:
gold normalised by (x - 0) / 5; per machine summary the max of torch cos_sim
(normalize + mm) and of dot_score (mm) over the human summaries, .item();
texts skipped when set(gold), set(dot preds) or set(cos preds) has one value;
scipy.stats.spearmanr / pearsonr per text; np.mean over the list of
(statistic, pvalue) results (the v1 bug, mteb#1156) and the plain mean of the
statistics. Texts include tied gold scores, one with constant gold (skipped)
and one whose machine summaries are identical (constant predictions, skipped).
The C test tests/unit/test_summarization.c compares to 1e-6 (p-values to
1e-6 relative).
"""
import json
import os

import numpy as np
import torch
from scipy.stats import pearsonr, spearmanr

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "ranking")
os.makedirs(OUT, exist_ok=True)
rng = np.random.RandomState(1156)
DIM = 24


def cos_sim(a, b):
    a = torch.nn.functional.normalize(a, p=2, dim=1)
    b = torch.nn.functional.normalize(b, p=2, dim=1)
    return torch.mm(a, b.transpose(0, 1))


texts = []
for t in range(12):
    nh, nm = 4, 8
    human = rng.randn(nh, DIM).astype(np.float32)
    quality = rng.uniform(0, 1, size=nm)
    machine = (human[rng.randint(nh, size=nm)] * quality[:, None] + rng.randn(nm, DIM) * 0.7).astype(np.float32)
    gold = np.round(1 + 4 * quality + rng.randn(nm) * 0.6, 0).clip(1, 5)   # integer grid: ties
    if t == 3:
        gold[:] = 3.0                      # constant gold: skipped
    if t == 5:
        machine[:] = machine[0]            # constant predictions: skipped
    texts.append({"human": human, "machine": machine, "gold": gold})

cs, cp, ds, dp = [], [], [], []
per_text = []
for t in texts:
    g = (t["gold"] - 0) / (5 - 0)
    H, M = torch.from_numpy(t["human"]), torch.from_numpy(t["machine"])
    cos_preds, dot_preds, human_scores = [], [], []
    for i in range(M.shape[0]):
        cos_preds.append(torch.max(cos_sim(M[i:i + 1], H)).item())
        dot_preds.append(torch.max(torch.mm(M[i:i + 1], H.transpose(0, 1))).item())
        human_scores.append(g[i])
    if len(set(human_scores)) == 1 or len(set(dot_preds)) == 1 or len(set(cos_preds)) == 1:
        per_text.append(None)
        continue
    r = [spearmanr(human_scores, cos_preds), pearsonr(human_scores, cos_preds),
         spearmanr(human_scores, dot_preds), pearsonr(human_scores, dot_preds)]
    cs.append(r[0]); cp.append(r[1]); ds.append(r[2]); dp.append(r[3])
    per_text.append({"cos_preds": cos_preds, "dot_preds": dot_preds,
                     "stat": [float(x[0]) for x in r], "pvalue": [float(x[1]) for x in r]})

expected = {
    "cosine_spearman": float(np.mean(cs)), "cosine_pearson": float(np.mean(cp)),
    "dot_spearman": float(np.mean(ds)), "dot_pearson": float(np.mean(dp)),
    "cosine_spearman_corrected": float(np.mean([x[0] for x in cs])),
    "cosine_pearson_corrected": float(np.mean([x[0] for x in cp])),
    "dot_spearman_corrected": float(np.mean([x[0] for x in ds])),
    "dot_pearson_corrected": float(np.mean([x[0] for x in dp])),
}
fixture = {"dim": DIM,
           "texts": [{"human": t["human"].astype(float).tolist(), "machine": t["machine"].astype(float).tolist(),
                      "relevance": t["gold"].tolist(), "expected": e} for t, e in zip(texts, per_text)],
           "expected": expected}
with open(os.path.join(OUT, "summarization_ref.json"), "w") as f:
    json.dump(fixture, f, separators=(",", ":"))
print("wrote summarization_ref.json: %d texts (%d skipped), cosine_spearman %.6f (bug) / %.6f (corrected)"
      % (len(texts), sum(e is None for e in per_text), expected["cosine_spearman"], expected["cosine_spearman_corrected"]))

# ---- the same data as a hub folder + precomputed vectors, for the evaluator end to end ----
E2E = os.path.join(OUT, "summarization_e2e")
os.makedirs(os.path.join(E2E, "data"), exist_ok=True)
os.makedirs(os.path.join(E2E, "model"), exist_ok=True)
all_texts, all_vecs = [], []
with open(os.path.join(E2E, "data", "test.jsonl"), "w") as f:
    for ti, t in enumerate(texts):
        hs = ["human summary %d.%d" % (ti, j) for j in range(len(t["human"]))]
        ms = ["machine summary %d.%d" % (ti, j) for j in range(len(t["machine"]))]
        f.write(json.dumps({"id": "text-%d" % ti, "text": "source %d" % ti, "human_summaries": hs,
                            "machine_summaries": ms, "relevance": t["gold"].tolist()}) + "\n")
        all_texts += hs + ms
        all_vecs += [t["human"], t["machine"]]
with open(os.path.join(E2E, "model", "texts.jsonl"), "w") as f:
    for s in all_texts:
        f.write(json.dumps({"text": s}) + "\n")
np.save(os.path.join(E2E, "model", "embeddings.npy"), np.concatenate(all_vecs).astype(np.float32))
with open(os.path.join(E2E, "expected.json"), "w") as f:
    json.dump({"settings": {"min_score": 0, "max_score": 5, "v1_pvalue_bug": True}, "scores": expected}, f, indent=1)
