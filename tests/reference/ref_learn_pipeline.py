#!/usr/bin/python3
"""Writes tests/fixtures/learning/pipeline/: small classification and
clustering tasks whose texts have fixed float32 vectors (texts.jsonl +
embeddings.npy, read by cmteb's precomputed:DIR backend), and expected.json
with the scores MTEB's own procedures give on those vectors, run here with
numpy / scikit-learn:

  classification  mteb 1.12 AbsTaskClassification._undersample_data chained
                  over experiments on np.random seeded 42, then
                  LogisticRegression(random_state=42, n_jobs=-1, max_iter=100),
                  accuracy / f1 macro / f1 weighted / AP on hard labels;
                  optionally mteb's stratified_subsampling of the test split
                  (Hugging Face train_test_split(stratify_by_column), restated
                  in ref_learn_random.py);
  clustering v1   per set: np.random.seed(42) then MiniBatchKMeans(n_clusters=
                  #labels, batch_size=500, n_init="auto"), v_measure_score;
  clustering fast mteb 2 _convert_to_fast + AbsTaskClustering._evaluate_subset
                  (random.Random(42) sampling, bootstrap with choices,
                  MiniBatchKMeans(batch_size, n_init=1, random_state=42)).

test_classification and test_clustering run cmteb's evaluators on the same
files and must reproduce these numbers.

Run: /usr/bin/python3 tests/reference/ref_learn_pipeline.py
"""
import itertools
import json
import os
import random
import sys
import warnings
from collections import defaultdict

import numpy as np
import sklearn
from sklearn.cluster import MiniBatchKMeans
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, average_precision_score, f1_score, v_measure_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref_learn_random import stratified_split  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "learning", "pipeline")
DIM = 12


class Vectors:
    """Texts and their vectors, written as texts.jsonl + embeddings.npy."""

    def __init__(self, rs):
        self.rs = rs
        self.index = {}
        self.rows = []

    def add(self, text, center, spread):
        if text not in self.index:
            v = center + spread * self.rs.normal(0, 1, DIM)
            self.index[text] = len(self.rows)
            self.rows.append(np.round(v, 3).astype(np.float32))
        return self.rows[self.index[text]]

    def write(self, folder):
        with open(os.path.join(folder, "texts.jsonl"), "w") as f:
            for t in self.index:
                f.write(json.dumps({"text": t}) + "\n")
        np.save(os.path.join(folder, "embeddings.npy"), np.stack(self.rows))


def write_jsonl(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def mteb_classification(vec, train, test, samples_per_label, n_experiments):
    X_test = np.stack([vec.rows[vec.index[t]] for t, _ in test])
    y_test = [l for _, l in test]
    idxs = np.arange(len(train))
    exps = []
    for _ in range(n_experiments):
        np.random.seed(42)           # every Evaluator.__init__ reseeds the global RNG
        np.random.shuffle(idxs)
        counts = defaultdict(int)
        Xs, ys = [], []
        for i in idxs:
            t, l = train[i]
            if counts[l] < samples_per_label:
                Xs.append(vec.rows[vec.index[t]])
                ys.append(l)
                counts[l] += 1
        clf = LogisticRegression(random_state=42, n_jobs=-1, max_iter=100)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(np.stack(Xs), ys)
        pred = clf.predict(X_test)
        s = {"accuracy": accuracy_score(y_test, pred), "f1": f1_score(y_test, pred, average="macro"),
             "f1_weighted": f1_score(y_test, pred, average="weighted")}
        if len(np.unique(ys)) == 2:
            s["ap"] = average_precision_score(y_test, pred, average="macro")
            s["ap_weighted"] = average_precision_score(y_test, pred, average="weighted")
        exps.append(s)
    avg = {k: float(np.mean([e[k] for e in exps])) for k in exps[0]}
    avg["scores_per_experiment"] = exps
    avg["main_score"] = avg["accuracy"]
    return avg


def make_classification(rs, vec, name, labels, n_train, n_test, spread):
    centers = {l: rs.normal(0, 1, DIM) for l in labels}
    p = rs.dirichlet(np.ones(len(labels)) * 2)
    def rows(split, n):
        out = []
        for i in range(n):
            l = labels[rs.choice(len(labels), p=p)]
            t = "%s %s %d: %s" % (name, split, i, l)
            vec.add(t, centers[l], spread)
            out.append((t, l))
        return out
    return rows("train", n_train), rows("test", n_test)


def mteb_cluster_v1(vec, sets):
    out = []
    for sents, labs in sets:
        np.random.seed(42)
        X = np.stack([vec.rows[vec.index[t]] for t in sents])
        km = MiniBatchKMeans(n_clusters=len(set(labs)), batch_size=500, n_init="auto")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            km.fit(X)
        out.append(float(v_measure_score(labs, km.labels_)))
    return {"v_measure": float(np.mean(out)), "v_measure_std": float(np.std(out)), "v_measures": out}


def mteb_cluster_fast(vec, sets, seed, frac, per_cluster, rounds, batch):
    # _convert_to_fast: pool the sets, first occurrence of a sentence wins
    seen, sentences, labels = set(), [], []
    for sents, labs in sets:
        for l, s in zip(labs, sents):
            if s not in seen:
                labels.append(l)
                sentences.append(s)
                seen.add(s)
    rng_state = random.Random(seed)
    n_embed = min(len(sentences), int(frac * len(sentences)))
    idx = rng_state.sample(range(len(sentences)), k=n_embed)
    emb = np.stack([vec.rows[vec.index[sentences[i]]] for i in idx])
    labs = [[labels[i]] for i in idx]
    v = defaultdict(list)
    for lvl in range(max(map(len, labs))):
        ll = np.array([l[lvl] if len(l) > lvl else -1 for l in labs])
        valid = np.array([x != -1 for x in ll])
        ll = ll[valid]
        le = emb[valid]
        km = MiniBatchKMeans(n_clusters=np.unique(ll).size, batch_size=batch, init="k-means++", n_init=1,
                             random_state=seed)
        for _ in range(rounds):
            ci = rng_state.choices(range(len(le)), k=per_cluster)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pred = km.fit_predict(le[ci])
            v["Level %d" % lvl].append(float(v_measure_score(ll[ci], pred)))
    allv = list(itertools.chain.from_iterable(v.values()))
    return {"v_measure": float(np.mean(allv)), "v_measure_std": float(np.std(allv)), "v_measures": dict(v)}


def main():
    rs = np.random.RandomState(2024)
    os.makedirs(OUT, exist_ok=True)
    vec = Vectors(rs)
    expected = {"sklearn": sklearn.__version__, "numpy": np.__version__}

    # multi-class, string labels, imbalanced
    train, test = make_classification(rs, vec, "multi", ["alpha", "beta", "delta", "epsilon", "gamma"], 160, 90, 1.3)
    write_jsonl(os.path.join(OUT, "clf_multi", "train.jsonl"), [{"text": t, "label": l} for t, l in train])
    write_jsonl(os.path.join(OUT, "clf_multi", "test.jsonl"), [{"text": t, "label": l} for t, l in test])
    expected["clf_multi"] = mteb_classification(vec, train, test, 8, 10)

    # binary, int labels, test capped by the stratified subsample (ToxicConversations style)
    train, test = make_classification(rs, vec, "binary", [0, 1], 120, 260, 2.0)
    write_jsonl(os.path.join(OUT, "clf_binary", "train.jsonl"), [{"text": t, "label": l} for t, l in train])
    write_jsonl(os.path.join(OUT, "clf_binary", "test.jsonl"), [{"text": t, "label": l} for t, l in test])
    y = np.array([l for _, l in test])
    _, keep = stratified_split(y, len(test) - 100, 100, 42)
    expected["clf_binary"] = mteb_classification(vec, train, [test[i] for i in keep], 16, 10)

    # clustering sets (labels as strings), with sentences repeated across sets
    topics = ["sports", "cooking", "space", "finance", "music", "travel"]
    centers = {t: rs.normal(0, 1, DIM) * 0.9 for t in topics}
    pool = []
    for i in range(900):
        t = topics[rs.randint(0, len(topics))]
        s = "s%d %s" % (i, t)
        vec.add(s, centers[t], 1.0)
        pool.append((s, t))
    sets = []
    for size in (120, 650, 300):
        pick = rs.choice(len(pool), size, replace=False)
        sets.append(([pool[i][0] for i in pick], [pool[i][1] for i in pick]))
    write_jsonl(os.path.join(OUT, "clusters", "test.jsonl"), [{"sentences": s, "labels": l} for s, l in sets])
    expected["clusters_v1"] = mteb_cluster_v1(vec, sets)
    expected["clusters_fast"] = mteb_cluster_fast(vec, sets, 42, 0.5, 300, 3, 64)
    expected["clusters_fast_settings"] = {"max_fraction_of_documents_to_embed": 0.5, "max_documents_per_cluster": 300,
                                          "n_bootstrap": 3, "fast_batch_size": 64}

    vec.write(OUT)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    for k in ("clf_multi", "clf_binary", "clusters_v1", "clusters_fast"):
        print(k, {kk: vv for kk, vv in expected[k].items() if not isinstance(vv, (list, dict))})
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
