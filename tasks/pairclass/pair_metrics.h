/*
 * pair_metrics.h: MTEB's PairClassificationEvaluator metrics for one score
 * function (reference: tests/reference/ref_rank_pairclass.py).
 *
 * Rows (score, label) are sorted by score, descending when a higher score
 * means "more similar" (cosine, dot) and ascending for distances (euclidean,
 * manhattan), stably (Python's sorted keeps input order among equal scores,
 * with reverse=True too). Accuracy: walk rows 0..n-2, counting positives so
 * far and negatives remaining; keep the strict maximum of
 * (pos_so_far + neg_remaining)/n and the midpoint threshold
 * (s_i + s_{i+1})/2 computed in float32. F1: the same walk, F1 of the top
 * i+1 rows once one positive is in, strict maximum with its precision,
 * recall and midpoint. AP: scikit-learn's average_precision_score on the
 * scores (negated for distances).
 */
#ifndef CMTEB_TASKS_PAIRCLASS_PAIR_METRICS_H
#define CMTEB_TASKS_PAIRCLASS_PAIR_METRICS_H

#include <stddef.h>

typedef struct cm_pair_metrics {
    double accuracy, accuracy_threshold;
    double f1, f1_threshold, precision, recall;
    double ap;
} cm_pair_metrics;

/* scores (n) float32, labels (n) 0/1. CM_OK or CM_ERR_NOMEM. */
int cm_pair_metrics_compute(const float *scores, const int *labels, size_t n, int higher_is_similar,
                            cm_pair_metrics *out);

/* The four score functions of the evaluator on pairs (a_i, b_i), float32:
 * cosine = 1 - paired_cosine_distance (0.5 * |a/|a| - b/|b||^2), dot = a.b,
 * euclidean = |a - b|, manhattan = sum |a - b| (all on the raw vectors).
 * a, b (n, dim); each output (n). */
void cm_pair_scores(const float *a, const float *b, size_t n, size_t dim, float *cosine, float *dot,
                    float *euclidean, float *manhattan);

#endif
