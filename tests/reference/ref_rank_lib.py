"""ref_rank_lib.py: MTEB v1 reference computations shared by the ref_rank_*.py
fixture writers and the ranking e2e tests (tests/e2e/scifact.sh, msrp.sh).

Written from ../shared/spec/mteb-protocol.md (sections 1.1 and 1.5) with
Debian's numpy / scikit-learn; nothing here is cmteb code.
"""
import heapq
import math

import numpy as np
from sklearn.metrics import average_precision_score
from sklearn.metrics.pairwise import (paired_cosine_distances,
                                      paired_euclidean_distances,
                                      paired_manhattan_distances)


def find_best_acc_and_threshold(scores, labels, high_score_more_similar):
    rows = list(zip(scores, labels))
    rows = sorted(rows, key=lambda x: x[0], reverse=high_score_more_similar)
    max_acc = 0
    best_threshold = -1
    positive_so_far = 0
    remaining_negatives = sum(np.array(labels) == 0)
    for i in range(len(rows) - 1):
        score, label = rows[i]
        if label == 1:
            positive_so_far += 1
        else:
            remaining_negatives -= 1
        acc = (positive_so_far + remaining_negatives) / len(labels)
        if acc > max_acc:
            max_acc = acc
            best_threshold = (rows[i][0] + rows[i + 1][0]) / 2
    return max_acc, best_threshold


def find_best_f1_and_threshold(scores, labels, high_score_more_similar):
    scores = np.asarray(scores)
    labels = np.asarray(labels)
    rows = list(zip(scores, labels))
    rows = sorted(rows, key=lambda x: x[0], reverse=high_score_more_similar)
    best_f1 = best_precision = best_recall = 0
    threshold = 0
    nextract = 0
    ncorrect = 0
    total_num_duplicates = sum(labels)
    for i in range(len(rows) - 1):
        score, label = rows[i]
        nextract += 1
        if label == 1:
            ncorrect += 1
        if ncorrect > 0:
            precision = ncorrect / nextract
            recall = ncorrect / total_num_duplicates
            f1 = 2 * precision * recall / (precision + recall)
            if f1 > best_f1:
                best_f1 = f1
                best_precision = precision
                best_recall = recall
                threshold = (rows[i][0] + rows[i + 1][0]) / 2
    return best_f1, best_precision, best_recall, threshold


def evaluate(a, b, labels):
    cos = 1 - paired_cosine_distances(a, b)
    man = paired_manhattan_distances(a, b)
    euc = paired_euclidean_distances(a, b)
    dot = [np.dot(x, y) for x, y in zip(a, b)]
    labels = np.asarray(labels)
    out, raw = {}, {}
    for name, scores, high in (("cosine", cos, True), ("manhattan", man, False),
                               ("euclidean", euc, False), ("dot", dot, True)):
        acc, acc_t = find_best_acc_and_threshold(scores, labels, high)
        f1, p, r, f1_t = find_best_f1_and_threshold(scores, labels, high)
        ap = average_precision_score(labels, np.asarray(scores) * (1 if high else -1))
        out.update({name + "_accuracy": float(acc), name + "_accuracy_threshold": float(acc_t),
                    name + "_f1": float(f1), name + "_f1_threshold": float(f1_t),
                    name + "_precision": float(p), name + "_recall": float(r), name + "_ap": float(ap)})
        raw[name] = np.asarray(scores, dtype=np.float32).astype(float).tolist()
    for m in ("accuracy", "f1", "ap"):
        out["max_" + m] = max(out[f + "_" + m] for f in ("cosine", "manhattan", "euclidean", "dot"))
    return out, raw




def normalize(x):
    """torch.nn.functional.normalize(p=2, dim=1) in float32."""
    x = np.asarray(x, dtype=np.float32)
    n = np.sqrt((x * x).sum(axis=1, dtype=np.float32)).astype(np.float32)
    return (x / np.maximum(n, np.float32(1e-12))[:, None]).astype(np.float32)


def beir_search(q, d, query_ids, doc_ids, top_k, skip_self=True):
    """DenseRetrievalExactSearch: float32 cosine, heapq of (score, id) per query."""
    S = normalize(q) @ normalize(d).T
    results = {}
    for qi, qid in enumerate(query_ids):
        row = S[qi]
        # candidates: a superset of the final top_k (ties at the boundary included)
        kth = np.partition(-row, min(top_k + 1, len(row) - 1))[min(top_k + 1, len(row) - 1)]
        cand = np.nonzero(-row <= kth)[0]
        heap = []
        for di in cand:
            cid = doc_ids[di]
            if skip_self and cid == qid:
                continue
            item = (float(row[di]), cid)
            if len(heap) < top_k:
                heapq.heappush(heap, item)
            else:
                heapq.heappushpop(heap, item)
        results[qid] = {cid: s for s, cid in heap}
    return results


def trec_rank(run):
    hits = sorted(run.items(), key=lambda kv: kv[0], reverse=True)       # docno descending
    hits.sort(key=lambda kv: np.float32(kv[1]), reverse=True)           # then score descending (stable)
    return hits


def trec_query(run, judged, ks):
    """pytrec_eval's ndcg_cut / map_cut / recall / P, and BEIR's MRR (ties in trec order)."""
    hits = trec_rank(run)
    rels = [judged.get(doc, -1) for doc, _ in hits]
    num_rel = sum(1 for r in judged.values() if r >= 1)
    ideal = sorted([r for r in judged.values() if r > 0], reverse=True)
    out = {}
    for k in ks:
        top = rels[:k]
        dcg = sum(r / math.log2(i + 2) for i, r in enumerate(top) if r > 0)
        idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal[:k]))
        out["ndcg_at_%d" % k] = dcg / idcg if idcg > 0 else 0.0
        relc, apsum = 0, 0.0
        for i, r in enumerate(top):
            if r >= 1:
                relc += 1
                apsum += relc / (i + 1)
        out["map_at_%d" % k] = apsum / num_rel if num_rel else 0.0
        out["recall_at_%d" % k] = relc / num_rel if num_rel else 0.0
        out["precision_at_%d" % k] = relc / k
        mrr = 0.0
        for i, (doc, _) in enumerate(hits[:k]):
            if judged.get(doc, 0) > 0:
                mrr = 1.0 / (i + 1)
                break
        out["mrr_at_%d" % k] = mrr
    return out


def beir_evaluate(results, qrels, ks):
    """Means over the queries in both run and qrels (MRR: over len(qrels)), round(x, 5)."""
    per_query = {qid: trec_query(results[qid], qrels[qid], ks) for qid in results if qid in qrels}
    means = {}
    for key in next(iter(per_query.values())).keys():
        total = sum(v[key] for v in per_query.values())
        denom = len(qrels) if key.startswith("mrr_at_") else len(per_query)
        means[key] = round(total / denom, 5)
    return means, per_query
