/*
 * vmeasure.h: scikit-learn's homogeneity_completeness_v_measure (beta = 1),
 * computed exactly as sklearn 1.2 does: entropies of the class and cluster
 * sizes with natural logarithms, mutual information from the non-zero cells
 * of the contingency table (rows = sorted classes, columns = sorted
 * clusters), tiny per-cell terms (|t| < eps) dropped, MI clipped at 0;
 * homogeneity = MI / H(C) (1 when H(C) = 0), completeness = MI / H(K) (1 when
 * H(K) = 0), V = 2 h c / (h + c) (0 when h + c = 0). Empty input: all 1.
 *
 * Labels are any ints (not necessarily dense). Ownership: inputs borrowed.
 */
#ifndef CMTEB_TASKS_CLUSTERING_VMEASURE_H
#define CMTEB_TASKS_CLUSTERING_VMEASURE_H

#include <stddef.h>

/* Returns CM_OK or CM_ERR_NOMEM; *v (and *h, *c when not NULL) get the scores. */
int cm_v_measure(const int *labels_true, const int *labels_pred, size_t n, double *v, double *h, double *c);

#endif
