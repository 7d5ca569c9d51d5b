/*
 * clf_metrics.c: accuracy, macro and weighted F1 and hard-label AP as
 * scikit-learn computes them (see clf_metrics.h).
 */
#include "tasks/classification/clf_metrics.h"
#include "tasks/metrics/metrics.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdlib.h>

int cm_clf_scores_compute(const int *y_true, const int *y_pred, size_t n, int n_labels, int positive,
                          cm_clf_scores *out) {
    size_t L = (size_t)(n_labels > 0 ? n_labels : 1);
    size_t *tp = cm_calloc(3 * L, sizeof *tp);
    if (!tp) return CM_ERR_NOMEM;
    size_t *n_true = tp + L, *n_pred = n_true + L, correct = 0;
    for (size_t i = 0; i < n; i++) {
        n_true[y_true[i]]++;
        n_pred[y_pred[i]]++;
        if (y_true[i] == y_pred[i]) {
            tp[y_true[i]]++;
            correct++;
        }
    }
    double f1_sum = 0.0, f1_wsum = 0.0, w_total = 0.0;
    size_t present = 0;
    for (size_t k = 0; k < L; k++) {
        if (!n_true[k] && !n_pred[k]) continue;
        present++;
        double prec = n_pred[k] ? (double)tp[k] / (double)n_pred[k] : 0.0;
        double rec = n_true[k] ? (double)tp[k] / (double)n_true[k] : 0.0;
        double den = prec + rec;
        double f1 = den == 0.0 ? 0.0 : 2.0 * prec * rec / den;
        f1_sum += f1;
        f1_wsum += f1 * (double)n_true[k];
        w_total += (double)n_true[k];
    }
    out->accuracy = n ? (double)correct / (double)n : 0.0;
    out->f1 = present ? f1_sum / (double)present : 0.0;
    out->f1_weighted = w_total > 0 ? f1_wsum / w_total : 0.0;
    out->ap = 0.0;
    free(tp);
    if (positive >= 0 && n) {
        int *lab = cm_malloc(n * sizeof *lab);
        double *sc = cm_malloc(n * sizeof *sc);
        if (!lab || !sc) { free(lab); free(sc); return CM_ERR_NOMEM; }
        for (size_t i = 0; i < n; i++) {
            lab[i] = y_true[i] == positive;
            sc[i] = y_pred[i] == positive ? 1.0 : 0.0;
        }
        out->ap = cm_average_precision(lab, sc, n);
        free(lab);
        free(sc);
    }
    return CM_OK;
}
