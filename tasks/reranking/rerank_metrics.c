/* rerank_metrics.c: per-sample AP, MRR@k and max-over-queries cosine scores for reranking (see rerank_metrics.h). */
#include "tasks/reranking/rerank_metrics.h"
#include "cmteb/util.h"
#include "tasks/metrics/metrics.h"

#include <math.h>
#include <stdlib.h>

double cm_rerank_ap(const float *scores, size_t n_pos, size_t n_neg) {
    size_t n = n_pos + n_neg;
    int *labels = malloc(n * sizeof *labels);
    double *s = malloc(n * sizeof *s);
    double ap = NAN;
    if (labels && s) {
        for (size_t i = 0; i < n; i++) {
            labels[i] = i < n_pos;
            s[i] = (double)scores[i];
        }
        ap = cm_average_precision(labels, s, n);
    }
    free(labels);
    free(s);
    return ap;
}

double cm_rerank_mrr(const float *scores, size_t n_pos, size_t n_neg, size_t k) {
    /* The rank of the best positive p under a stable descending sort is the
     * number of documents that come before it: higher scores, plus equal
     * scores earlier in the input. The first positive found that way is the
     * one with the smallest rank. */
    size_t n = n_pos + n_neg, best = (size_t)-1;
    for (size_t p = 0; p < n_pos; p++) {
        size_t before = 0;
        for (size_t i = 0; i < n; i++)
            if (scores[i] > scores[p] || (scores[i] == scores[p] && i < p)) before++;
        if (before < best) best = before;
    }
    return best < k ? 1.0 / (double)(best + 1) : 0.0;
}

void cm_rerank_scores(const float *q, size_t nq, const float *docs, size_t nd, size_t dim, float *out) {
    for (size_t d = 0; d < nd; d++) {
        float m = -INFINITY;
        for (size_t j = 0; j < nq; j++) {
            float s = (float)cm_dot(q + j * dim, docs + d * dim, dim);
            if (s > m) m = s;
        }
        out[d] = m;
    }
}
