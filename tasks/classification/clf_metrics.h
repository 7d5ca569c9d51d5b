/*
 * clf_metrics.h: the per-experiment scores MTEB's logistic-regression
 * evaluator writes, with scikit-learn 1.2's semantics:
 *
 *   accuracy      accuracy_score
 *   f1            f1_score(average="macro") over the labels present in
 *                 y_true or y_pred; a label with no true and no predicted
 *                 row is not counted, 0/0 precision or recall counts as 0
 *   f1_weighted   f1_score(average="weighted"): per-label F1 weighted by
 *                 the number of true rows
 *   ap            (binary) average_precision_score(y_true, y_pred) on the
 *                 hard predictions, positive = the given label
 *
 * Labels are small integers in [0, n_labels). Ownership: inputs borrowed.
 */
#ifndef CMTEB_TASKS_CLASSIFICATION_CLF_METRICS_H
#define CMTEB_TASKS_CLASSIFICATION_CLF_METRICS_H

#include <stddef.h>

typedef struct cm_clf_scores {
    double accuracy, f1, f1_weighted, ap;
} cm_clf_scores;

/* Fills accuracy, f1, f1_weighted; ap too when positive >= 0 (else ap = 0).
 * Returns CM_OK or CM_ERR_NOMEM. */
int cm_clf_scores_compute(const int *y_true, const int *y_pred, size_t n, int n_labels, int positive,
                          cm_clf_scores *out);

#endif
