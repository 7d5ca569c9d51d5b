#!/usr/bin/python3
"""Writes tests/fixtures/learning/e2e/<model>.json: scikit-learn's scores, by
MTEB's own procedures, for the real data sets the e2e tests run, on the very
vectors cmteb embeds (dumped with `cmteb embed`):

  Banking77Classification             mteb/banking77, 10 experiments x 8 rows per label
  AmazonCounterfactualClassification  mteb/amazon_counterfactual/en, 10 x 32 rows per label
  NewsgroupsMini (clustering, v1)     extra/twentynewsgroups_mini: per set
                                      MiniBatchKMeans(batch 500, n_init="auto")
                                      after np.random.seed(s); V-measure mean over the
                                      sets, for s = 42 and for seeds 0..9

The classification procedure is mteb 1.12's (undersampling chained over
experiments on np.random seeded 42, LogisticRegression(max_iter=100),
accuracy / macro F1 / weighted F1 / AP on hard labels); every text is embedded
as a query, as MTEB's plain encode does (hash and GloVe ignore instructions).

Usage: /usr/bin/python3 tests/reference/ref_learn_e2e.py CMTEB_BIN DATA_DIR [GLOVE_TXT]
(models: hash, plus glove:GLOVE_TXT when given). Takes a few minutes.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import warnings
from collections import defaultdict

import numpy as np
import sklearn
from sklearn.cluster import MiniBatchKMeans
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, average_precision_score, f1_score, v_measure_score

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "learning", "e2e")


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def embed(cmteb, model, texts, work, name):
    inp, out = os.path.join(work, name + ".jsonl"), os.path.join(work, name + ".npy")
    with open(inp, "w") as f:
        for t in texts:
            f.write(json.dumps({"text": t}) + "\n")
    subprocess.run([cmteb, "embed", "--model", model, "--role", "query", "--input", inp, "--output", out, "--quiet"],
                   check=True)
    return np.load(out)


def classification(cmteb, model, folder, spl, work, name):
    train, test = read_jsonl(os.path.join(folder, "train.jsonl")), read_jsonl(os.path.join(folder, "test.jsonl"))
    Xtr = embed(cmteb, model, [r["text"] for r in train], work, name + "_train")
    Xte = embed(cmteb, model, [r["text"] for r in test], work, name + "_test")
    ytr, yte = [r["label"] for r in train], [r["label"] for r in test]
    idxs = np.arange(len(train))
    exps = []
    for _ in range(10):
        np.random.seed(42)
        np.random.shuffle(idxs)
        cnt, sel = defaultdict(int), []
        for i in idxs:
            if cnt[ytr[i]] < spl:
                sel.append(i)
                cnt[ytr[i]] += 1
        clf = LogisticRegression(random_state=42, n_jobs=-1, max_iter=100)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(Xtr[sel], [ytr[i] for i in sel])
        pred = clf.predict(Xte)
        s = {"accuracy": accuracy_score(yte, pred), "f1": f1_score(yte, pred, average="macro"),
             "f1_weighted": f1_score(yte, pred, average="weighted")}
        if len(set(ytr[i] for i in sel)) == 2:
            s["ap"] = average_precision_score(yte, pred)
        exps.append(s)
    return {k: float(np.mean([e[k] for e in exps])) for k in exps[0]}


def newsgroups(cmteb, model, folder, work):
    sets = read_jsonl(os.path.join(folder, "test.jsonl"))
    uniq = sorted({t for s in sets for t in s["sentences"]})
    X = embed(cmteb, model, uniq, work, "ng")
    row = {t: i for i, t in enumerate(uniq)}
    def run(seed):
        vs = []
        for s in sets:
            np.random.seed(seed)
            km = MiniBatchKMeans(n_clusters=len(set(s["labels"])), batch_size=500, n_init="auto")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                km.fit(X[[row[t] for t in s["sentences"]]])
            vs.append(v_measure_score(s["labels"], km.labels_))
        return float(np.mean(vs))
    per_seed = [run(s) for s in range(10)]
    return {"v_measure_seed42": run(42), "seeds": list(range(10)), "v_measure_per_seed": per_seed,
            "v_measure_mean_seeds": float(np.mean(per_seed)), "v_measure_std_seeds": float(np.std(per_seed))}


def file_id(path):
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    return {"size": os.path.getsize(path), "sha256_first_mib": hashlib.sha256(head).hexdigest()}


def main():
    cmteb, data = sys.argv[1], sys.argv[2]
    models = [("hash", "hash", None)]
    if len(sys.argv) > 3:
        models.append(("glove", "glove:" + sys.argv[3], file_id(sys.argv[3])))
    os.makedirs(OUT, exist_ok=True)
    for tag, spec, ident in models:
        with tempfile.TemporaryDirectory() as work:
            doc = {"model": spec.split(":")[0], "sklearn": sklearn.__version__, "numpy": np.__version__}
            if ident:
                doc["glove_file"] = ident
            doc["Banking77Classification"] = classification(cmteb, spec, os.path.join(data, "mteb", "banking77"), 8,
                                                            work, "b77")
            doc["AmazonCounterfactualClassification"] = classification(
                cmteb, spec, os.path.join(data, "mteb", "amazon_counterfactual", "en"), 32, work, "acf")
            doc["NewsgroupsMini"] = newsgroups(cmteb, spec, os.path.join(data, "extra", "twentynewsgroups_mini"), work)
        path = os.path.join(OUT, tag + ".json")
        with open(path, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        print("wrote", os.path.normpath(path), json.dumps({k: v for k, v in doc.items() if isinstance(v, dict)})[:400])


if __name__ == "__main__":
    main()
