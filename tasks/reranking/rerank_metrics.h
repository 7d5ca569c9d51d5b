/*
 * rerank_metrics.h: the per-sample metrics of MTEB's RerankingEvaluator
 * (reference: tests/reference/ref_rank_reranking.py).
 *
 * scores (n_pos + n_neg) are the similarities of the sample's documents,
 * positives first. AP is scikit-learn's average_precision_score (tied
 * scores form one threshold); MRR@k is 1/rank of the first positive within
 * the top k of the documents sorted by score descending. MTEB sorts with
 * torch.argsort, whose order among tied scores is unspecified; here ties keep
 * input order (a stable sort), so a positive tied with negatives ranks first.
 */
#ifndef CMTEB_TASKS_RERANKING_RERANK_METRICS_H
#define CMTEB_TASKS_RERANKING_RERANK_METRICS_H

#include <stddef.h>

double cm_rerank_ap(const float *scores, size_t n_pos, size_t n_neg);
double cm_rerank_mrr(const float *scores, size_t n_pos, size_t n_neg, size_t k);

/* The sample's scores: for each document the maximum over the queries of the
 * dot product (vectors L2-normalised by the caller: cosine), in float32 as
 * torch's cos_sim + amax give it. q (nq, dim), docs (nd, dim), out (nd). */
void cm_rerank_scores(const float *q, size_t nq, const float *docs, size_t nd, size_t dim, float *out);

#endif
