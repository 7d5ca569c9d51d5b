/*
 * summ_metrics.h: MTEB's SummarizationEvaluator for one text
 * (reference: tests/reference/ref_rank_summarization.py).
 *
 * For each machine summary the prediction is its maximum cosine (and,
 * separately, maximum dot product) over the text's human summaries, in
 * float32 as torch computes them. The text is skipped when the gold scores,
 * the cosine predictions or the dot predictions are all equal; otherwise
 * Spearman and Pearson of gold vs predictions with their two-sided p-values
 * (scipy.stats semantics, tasks/metrics/metrics.h).
 */
#ifndef CMTEB_TASKS_SUMMARIZATION_SUMM_METRICS_H
#define CMTEB_TASKS_SUMMARIZATION_SUMM_METRICS_H

#include <stddef.h>

enum { CM_SUMM_COS_SPEARMAN = 0, CM_SUMM_COS_PEARSON, CM_SUMM_DOT_SPEARMAN, CM_SUMM_DOT_PEARSON, CM_SUMM_N };

typedef struct cm_summ_result {
    int    skipped;            /* constant gold or predictions */
    double stat[CM_SUMM_N];    /* correlation statistics */
    double pvalue[CM_SUMM_N];  /* their p-values */
} cm_summ_result;

/* human (nh, dim) and machine (nm, dim) raw embeddings; gold (nm).
 * CM_OK or CM_ERR_NOMEM. */
int cm_summ_text(const float *human, size_t nh, const float *machine, size_t nm, size_t dim, const double *gold,
                 cm_summ_result *out);

#endif
