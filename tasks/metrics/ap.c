/*
 * ap.c: average precision with scikit-learn's average_precision_score
 * semantics (sklearn/metrics/_ranking.py, version 1.2).
 *
 * The precision-recall curve has one point per DISTINCT score, taken in
 * decreasing order: all items whose score equals the threshold are counted
 * together (tied scores are one threshold, so the order of tied items does not
 * matter). AP = sum over those points of (R_i - R_{i-1}) * P_i with R_0 = 0.
 * With no positive item scikit-learn warns, sets recall to 1 everywhere and
 * returns -0.0; we return 0.0.
 */
#include "tasks/metrics/metrics.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    double s;
    int    pos;
} ap_item;

/* Decreasing score; the order inside a tie is irrelevant (ties are grouped). */
static int cmp_desc(const void *a, const void *b) {
    double x = ((const ap_item *)a)->s, y = ((const ap_item *)b)->s;
    return (x < y) - (x > y);
}

/* Small inputs (the usual reranking sample) use a stack buffer. */
#define AP_STACK 256

double cm_average_precision(const int *labels, const double *scores, size_t n) {
    if (n == 0) return 0.0;
    ap_item stackbuf[AP_STACK];
    ap_item *it = n <= AP_STACK ? stackbuf : malloc(n * sizeof *it);
    if (!it) return NAN; /* out of memory: NaN, which the callers' finite checks report */
    size_t total_pos = 0;
    for (size_t i = 0; i < n; i++) {
        it[i].s = scores[i];
        it[i].pos = labels[i] != 0;
        total_pos += (size_t)it[i].pos;
    }
    double ap = 0.0;
    if (total_pos > 0) {
        qsort(it, n, sizeof *it, cmp_desc);
        size_t tp = 0, seen = 0;
        double prev_recall = 0.0;
        size_t i = 0;
        while (i < n) {
            size_t j = i;
            while (j < n && it[j].s == it[i].s) tp += (size_t)it[j++].pos;
            seen = j;
            double recall = (double)tp / (double)total_pos;
            double precision = (double)tp / (double)seen;
            ap += (recall - prev_recall) * precision;
            prev_recall = recall;
            if (tp == total_pos) break; /* later points add nothing (sklearn stops here too) */
            i = j;
        }
    }
    if (it != stackbuf) free(it);
    return ap;
}
