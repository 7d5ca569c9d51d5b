/*
 * trec_metrics.h: ranking metrics of one query with trec_eval's semantics
 * (the trec_eval inside pytrec_eval, which MTEB v1 and BEIR use), plus BEIR's
 * MRR (reference: tests/reference/ref_rank_lib.py).
 *
 *   ranking    hits sorted by score (float32) descending, ties broken by
 *              document id descending (strcmp); input order is irrelevant.
 *   relevant   judged with rel >= relevance_level (1 for MTEB); documents
 *              not in the judgments are non-relevant.
 *   ndcg@k     sum over the top k of rel / log2(rank + 1) (graded gain, only
 *              rel > 0 counts), divided by the ideal DCG of the judged
 *              documents' rel levels (all of them, retrieved or not); 0 if
 *              that is 0.
 *   map@k      sum of precision@r over relevant hits at rank r <= k,
 *              divided by the number of relevant judged documents.
 *   recall@k   relevant hits in the top k / relevant judged documents.
 *   P@k        relevant hits in the top k / k (k fixed even if fewer hits).
 *   MRR@k      BEIR: 1/rank of the first hit with rel > 0 within the top k.
 *              (BEIR ranks ties by insertion order, which no one can
 *              reproduce; here ties follow the trec order above.)
 * Per-query values only; averaging (over queries, or BEIR's division of MRR
 * by the number of qrels queries) is the caller's.
 */
#ifndef CMTEB_TASKS_RETRIEVAL_TREC_METRICS_H
#define CMTEB_TASKS_RETRIEVAL_TREC_METRICS_H

#include <stddef.h>

#include "datasets/retrieval_data.h"   /* cm_judged */

enum {
    CM_RANK_NDCG = 0,
    CM_RANK_MAP,
    CM_RANK_RECALL,
    CM_RANK_P,
    CM_RANK_MRR,
    CM_RANK_NMETRICS
};

/* MTEB's key prefix of a metric: "ndcg_at_", "map_at_", "recall_at_",
 * "precision_at_", "mrr_at_". */
const char *cm_rank_metric_key(int metric);

/* One retrieved document with its score. */
typedef struct cm_hit {
    const char *doc;   /* borrowed */
    float       score;
} cm_hit;

typedef struct cm_trec_params {
    int    relevance_level;  /* rel >= this is relevant (trec_eval -l; default 1) */
    size_t max_ret;          /* only the best max_ret hits count (trec_eval -M; default all) */
} cm_trec_params;

cm_trec_params cm_trec_default_params(void);

/* Sorts hits into trec_eval's order: score descending, then id descending. */
void cm_hits_sort(cm_hit *hits, size_t n);

/*
 * Evaluates one query. hits (n_hits, any order) are sorted in place with
 * cm_hits_sort; judged must be normalised (cm_judged_normalize). ks (nk) are
 * the cutoffs, each >= 1. out is caller-allocated, (CM_RANK_NMETRICS, nk)
 * row-major: out[m * nk + j] = metric m at ks[j]. A document retrieved twice
 * is an error (CM_ERR_FORMAT naming it), as in trec_eval.
 */
int cm_trec_eval_query(cm_hit *hits, size_t n_hits, const cm_judged *judged, size_t n_judged,
                       const size_t *ks, size_t nk, const cm_trec_params *params, double *out);

#endif
