/*
 * metrics.h: statistics shared by several evaluators, each matching the
 * reference implementation named beside it.
 *
 * Ownership: inputs are borrowed; outputs are caller-allocated.
 */
#ifndef CMTEB_TASKS_METRICS_H
#define CMTEB_TASKS_METRICS_H

#include <stddef.h>

/* ---- correlation.c (scipy.stats) ----------------------------------------- */
/* Average ranks (1-based, ties get the mean rank): scipy.stats.rankdata. */
void   cm_rankdata(const double *x, size_t n, double *ranks);
/* scipy.stats.pearsonr: statistic and two-sided p-value (NaN when undefined). */
double cm_pearson(const double *x, const double *y, size_t n, double *pvalue);
/* scipy.stats.spearmanr: Pearson of average ranks; p-value from the t
 * distribution with n-2 degrees of freedom (two-sided). */
double cm_spearman(const double *x, const double *y, size_t n, double *pvalue);
/* Two-sided p-value of a correlation r over n samples (t-test, n-2 df). */
double cm_corr_pvalue(double r, size_t n);
/* Regularised incomplete beta I_x(a, b). */
double cm_betainc(double a, double b, double x);

/* ---- ap.c (sklearn.metrics.average_precision_score) ----------------------- */
/* Step-wise AP with tied scores grouped at one threshold, as scikit-learn
 * computes it. labels are 0/1; returns NaN-free 0 when there is no positive
 * (scikit-learn warns and returns -0.0 ... see ap.c for the exact rule). */
double cm_average_precision(const int *labels, const double *scores, size_t n);

#endif
