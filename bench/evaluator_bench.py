#!/usr/bin/python3
"""evaluator_bench.py: the Python side of bench/evaluator_bench.sh (issue 14's six task shapes).

usage: evaluator_bench.py make DIR [SCALE]   writes DIR/store (texts.jsonl + embeddings.npy, 384-d float32, every
                                             text of the six tasks), DIR/data/<task>/ and DIR/tasks/<task>.json
       evaluator_bench.py ref DIR TASK       one whole-process reference run of TASK, printing its main score
       evaluator_bench.py score FILE         the main score in a cmteb result file

Tasks (SCALE 1.0; the issue's table):
  retrieval       100,000 documents x 1,000 queries (planted relevant documents, qrels)
  classification  Banking77 shape: 10,003 train / 3,080 test, 77 labels (Gaussian class blobs)
  clustering      10 sets x 10,000 documents, 20 labels
  sts             10,000 pairs with gold scores 0-5
  pairclass       10,000 pairs, binary labels
  reranking       1,000 queries x 30 candidates (5 positive, 25 negative)

The reference is what MTEB v1 runs after encoding, on vectors looked up by text in the same store that
cmteb's precomputed: backend reads (np.load + texts.jsonl): BEIR's chunked exact search (numpy in place of
torch) + pytrec_eval semantics (tests/reference/ref_rank_lib.py), scikit-learn LogisticRegression /
MiniBatchKMeans / v_measure_score / average_precision_score, scipy's pearson/spearman, sklearn's paired
distances. scikit-learn 1.2.1, numpy 1.24, scipy 1.10 from Debian (/usr/bin/python3).
"""
import heapq
import json
import os
import sys
import warnings
from collections import defaultdict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
DIM = 384
TASKS = {  # name -> (catalog type, main score key)
    "retrieval": ("Retrieval", "ndcg_at_10"),
    "classification": ("Classification", "accuracy"),
    "clustering": ("Clustering", "v_measure"),
    "sts": ("STS", "cosine_spearman"),
    "pairclass": ("PairClassification", "cosine_ap"),
    "reranking": ("Reranking", "map"),
}


def write_jsonl(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def make(out, scale=1.0):
    rs = np.random.RandomState(14)
    texts, vecs = [], []

    def add(names, X):
        texts.extend(names)
        vecs.append(np.asarray(X, dtype=np.float32))

    def sc(n):
        return max(2, int(n * scale))

    # retrieval (as bench/ranking_bench.py)
    nd, nq = sc(100000), sc(1000)
    docs = rs.randn(nd, DIM).astype(np.float32)
    q = rs.randn(nq, DIM).astype(np.float32)
    qrels = []
    for i in range(nq):
        rel = rs.choice(nd, 4, replace=False)
        for j, d in enumerate(rel[:3]):
            docs[d] = q[i] + rs.randn(DIM).astype(np.float32) * (2.0 + 0.5 * j)
            qrels.append(("q%d" % i, "d%d" % d, 2 if j == 0 else 1))
        qrels.append(("q%d" % i, "d%d" % rel[3], 0))
    dtext = ["retrieval document %d" % i for i in range(nd)]
    qtext = ["retrieval query %d" % i for i in range(nq)]
    add(dtext, docs)
    add(qtext, q)
    base = os.path.join(out, "data", "retrieval")
    write_jsonl(os.path.join(base, "corpus.jsonl"), ({"_id": "d%d" % i, "title": "", "text": t} for i, t in enumerate(dtext)))
    write_jsonl(os.path.join(base, "queries.jsonl"), ({"_id": "q%d" % i, "text": t} for i, t in enumerate(qtext)))
    os.makedirs(os.path.join(base, "qrels"), exist_ok=True)
    with open(os.path.join(base, "qrels", "test.tsv"), "w") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for a, b, r in qrels:
            f.write("%s\t%s\t%d\n" % (a, b, r))

    # classification, Banking77 shape
    k = 77
    centers = rs.normal(0, 1, (k, DIM))
    p = rs.dirichlet(np.ones(k) * 5)
    for split, n in (("train", sc(10003)), ("test", sc(3080))):
        y = rs.choice(k, n, p=p)
        X = centers[y] + rs.normal(0, 2.2, (n, DIM))
        t = ["classification %s %d" % (split, i) for i in range(n)]
        add(t, X)
        write_jsonl(os.path.join(out, "data", "classification", split + ".jsonl"),
                    ({"text": a, "label": int(b)} for a, b in zip(t, y)))

    # clustering: 10 sets x 10,000, 20 labels
    rows = []
    for s in range(10):
        n = sc(10000)
        cent = rs.normal(0, 1, (20, DIM))
        y = rs.randint(0, 20, n)
        X = cent[y] + rs.normal(0, 1.1, (n, DIM))
        t = ["clustering %d %d" % (s, i) for i in range(n)]
        add(t, X)
        rows.append({"sentences": t, "labels": ["l%d" % v for v in y]})
    write_jsonl(os.path.join(out, "data", "clustering", "test.jsonl"), rows)

    # STS: 10,000 pairs, the second vector drifts from the first as the gold score falls
    n = sc(10000)
    gold = rs.uniform(0, 5, n)
    A = rs.randn(n, DIM)
    B = A * (gold[:, None] / 5.0) + rs.randn(n, DIM) * (1.2 - gold[:, None] / 5.0)
    t1 = ["sts a %d" % i for i in range(n)]
    t2 = ["sts b %d" % i for i in range(n)]
    add(t1, A)
    add(t2, B)
    write_jsonl(os.path.join(out, "data", "sts", "test.jsonl"),
                ({"sentence1": a, "sentence2": b, "score": float(g)} for a, b, g in zip(t1, t2, gold)))

    # pair classification: 10,000 pairs
    n = sc(10000)
    lab = rs.randint(0, 2, n)
    A = rs.randn(n, DIM)
    B = np.where(lab[:, None] == 1, A + rs.randn(n, DIM) * 1.3, rs.randn(n, DIM) + 0.3 * A)
    t1 = ["pair a %d" % i for i in range(n)]
    t2 = ["pair b %d" % i for i in range(n)]
    add(t1, A)
    add(t2, B)
    write_jsonl(os.path.join(out, "data", "pairclass", "test.jsonl"),
                [{"sent1": t1, "sent2": t2, "labels": [int(v) for v in lab]}])

    # reranking: 1,000 queries x (5 positive + 25 negative)
    n = sc(1000)
    rows = []
    Q = rs.randn(n, DIM)
    qt = ["rerank query %d" % i for i in range(n)]
    add(qt, Q)
    for i in range(n):
        P = Q[i] + rs.randn(5, DIM) * 1.6
        N = rs.randn(25, DIM) + 0.2 * Q[i]
        pt = ["rerank pos %d %d" % (i, j) for j in range(5)]
        nt = ["rerank neg %d %d" % (i, j) for j in range(25)]
        add(pt, P)
        add(nt, N)
        rows.append({"query": qt[i], "positive": pt, "negative": nt})
    write_jsonl(os.path.join(out, "data", "reranking", "test.jsonl"), rows)

    os.makedirs(os.path.join(out, "store"), exist_ok=True)
    with open(os.path.join(out, "store", "texts.jsonl"), "w") as f:
        for t in texts:
            f.write(json.dumps({"text": t}) + "\n")
    np.save(os.path.join(out, "store", "embeddings.npy"), np.concatenate(vecs).astype(np.float32))
    os.makedirs(os.path.join(out, "tasks"), exist_ok=True)
    for name, (typ, _) in TASKS.items():
        with open(os.path.join(out, "tasks", name + ".json"), "w") as f:
            json.dump({"name": "Bench" + name.capitalize(), "type": typ, "data": "../data/" + name,
                       "split": "test"}, f)
    print("%d texts x %d in the store" % (len(texts), DIM))


def load_store(d):
    with open(os.path.join(d, "store", "texts.jsonl")) as f:
        index = {json.loads(line)["text"]: i for i, line in enumerate(f)}
    return index, np.load(os.path.join(d, "store", "embeddings.npy"))


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def lookup(store, texts):
    index, E = store
    return E[[index[t] for t in texts]]


def normalize(x):
    n = np.sqrt((x * x).sum(axis=1, dtype=np.float32)).astype(np.float32)
    return x / np.maximum(n, np.float32(1e-12))[:, None]


def ref_retrieval(d, store):
    from ref_rank_lib import trec_query
    base = os.path.join(d, "data", "retrieval")
    corpus = read_jsonl(os.path.join(base, "corpus.jsonl"))
    queries = read_jsonl(os.path.join(base, "queries.jsonl"))
    qrels = {}
    with open(os.path.join(base, "qrels", "test.tsv")) as f:
        next(f)
        for line in f:
            a, b, r = line.split("\t")
            qrels.setdefault(a, {})[b] = int(r)
    doc_ids = [c["_id"] for c in corpus]
    query_ids = [x["_id"] for x in queries]
    D = lookup(store, [c["text"] for c in corpus])
    qn = normalize(lookup(store, [x["text"] for x in queries]))
    top_k, chunk, nd, nq = 1000, 50000, len(doc_ids), len(query_ids)
    heaps = [[] for _ in range(nq)]
    for c0 in range(0, nd, chunk):
        S = qn @ normalize(D[c0:c0 + chunk]).T
        k = min(top_k + 1, S.shape[1])
        idx = np.argpartition(-S, k - 1, axis=1)[:, :k]
        vals = np.take_along_axis(S, idx, axis=1)
        for qi in range(nq):
            h, qid = heaps[qi], query_ids[qi]
            for s, di in zip(vals[qi].tolist(), idx[qi].tolist()):
                cid = doc_ids[c0 + di]
                if cid == qid:
                    continue
                if len(h) < top_k:
                    heapq.heappush(h, (s, cid))
                else:
                    heapq.heappushpop(h, (s, cid))
    results = {query_ids[i]: {cid: s for s, cid in heaps[i]} for i in range(nq)}
    per = [trec_query(results[q], qrels[q], [1, 3, 5, 10, 20, 100, 1000]) for q in results if q in qrels]
    return round(sum(p["ndcg_at_10"] for p in per) / len(per), 5)


def ref_classification(d, store):
    from ref_learn_pipeline import mteb_classification

    class Vec:
        pass
    base = os.path.join(d, "data", "classification")
    train = [(r["text"], r["label"]) for r in read_jsonl(os.path.join(base, "train.jsonl"))]
    test = [(r["text"], r["label"]) for r in read_jsonl(os.path.join(base, "test.jsonl"))]
    v = Vec()
    v.index, v.rows = store
    return round(mteb_classification(v, train, test, 8, 10)["accuracy"], 5)


def ref_clustering(d, store):
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.metrics import v_measure_score
    out = []
    for r in read_jsonl(os.path.join(d, "data", "clustering", "test.jsonl")):
        np.random.seed(42)
        X = lookup(store, r["sentences"])
        km = MiniBatchKMeans(n_clusters=len(set(r["labels"])), batch_size=500, n_init="auto")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            km.fit(X)
        out.append(v_measure_score(r["labels"], km.labels_))
    return round(float(np.mean(out)), 5)


def ref_sts(d, store):
    from scipy.stats import pearsonr, spearmanr
    from sklearn.metrics.pairwise import paired_cosine_distances, paired_euclidean_distances, paired_manhattan_distances
    rows = read_jsonl(os.path.join(d, "data", "sts", "test.jsonl"))
    A = lookup(store, [r["sentence1"] for r in rows])
    B = lookup(store, [r["sentence2"] for r in rows])
    gold = [(r["score"] - 0) / 5.0 for r in rows]
    cos = 1 - paired_cosine_distances(A, B)
    man = -paired_manhattan_distances(A, B)
    euc = -paired_euclidean_distances(A, B)
    res = {"cosine_pearson": pearsonr(gold, cos)[0], "cosine_spearman": spearmanr(gold, cos)[0],
           "manhattan_spearman": spearmanr(gold, man)[0], "euclidean_spearman": spearmanr(gold, euc)[0],
           "manhattan_pearson": pearsonr(gold, man)[0], "euclidean_pearson": pearsonr(gold, euc)[0]}
    return round(float(res["cosine_spearman"]), 5)


def ref_pairclass(d, store):
    from ref_rank_lib import evaluate
    r = read_jsonl(os.path.join(d, "data", "pairclass", "test.jsonl"))[0]
    out, _ = evaluate(lookup(store, r["sent1"]), lookup(store, r["sent2"]), r["labels"])
    return round(out["cosine_ap"], 5)


def ref_reranking(d, store):
    from sklearn.metrics import average_precision_score
    aps, mrrs = [], []
    for r in read_jsonl(os.path.join(d, "data", "reranking", "test.jsonl")):
        q = normalize(lookup(store, [r["query"]]))
        docs = r["positive"] + r["negative"]
        s = (q @ normalize(lookup(store, docs)).T).max(axis=0)
        rel = [True] * len(r["positive"]) + [False] * len(r["negative"])
        aps.append(average_precision_score(rel, s))
        order = np.argsort(-s, kind="stable")
        mrr = 0.0
        for rank, i in enumerate(order[:10]):
            if rel[i]:
                mrr = 1.0 / (rank + 1)
                break
        mrrs.append(mrr)
    return round(float(np.mean(aps)), 5)


def score(path):
    r = json.load(open(path))
    s = r["scores"]["test"][0]
    return s.get("main_score")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "make":
        make(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 1.0)
    elif cmd == "ref":
        d, task = sys.argv[2], sys.argv[3]
        print("%.5f" % globals()["ref_" + task](d, load_store(d)))
    elif cmd == "score":
        print("%.5f" % score(sys.argv[2]))
