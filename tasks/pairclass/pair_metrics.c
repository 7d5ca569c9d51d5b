/* pair_metrics.c: accuracy/F1 threshold sweeps, AP and the paired score functions of pair classification (see
 * pair_metrics.h). */
#include "tasks/pairclass/pair_metrics.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "tasks/metrics/metrics.h"
#include "tasks/metrics/npfloat.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    float  s;
    int    label;
    size_t pos;
} prow;

static int cmp_desc(const void *a, const void *b) {
    const prow *x = a, *y = b;
    if (x->s != y->s) return x->s > y->s ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static int cmp_asc(const void *a, const void *b) {
    const prow *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static double midpoint(float a, float b) { return (double)((a + b) / 2.0f); }

int cm_pair_metrics_compute(const float *scores, const int *labels, size_t n, int higher_is_similar,
                            cm_pair_metrics *out) {
    prow *rows = cm_malloc((n ? n : 1) * sizeof *rows);
    double *ap_s = cm_malloc((n ? n : 1) * sizeof *ap_s);
    if (!rows || !ap_s) {
        free(rows);
        free(ap_s);
        return CM_ERR_NOMEM;
    }
    size_t total_pos = 0;
    for (size_t i = 0; i < n; i++) {
        rows[i].s = scores[i];
        rows[i].label = labels[i] != 0;
        rows[i].pos = i;
        total_pos += (size_t)rows[i].label;
        ap_s[i] = higher_is_similar ? (double)scores[i] : -(double)scores[i];
    }
    qsort(rows, n, sizeof *rows, higher_is_similar ? cmp_desc : cmp_asc);

    /* accuracy */
    double max_acc = 0, acc_thr = -1;
    size_t pos_so_far = 0, neg_left = n - total_pos;
    for (size_t i = 0; i + 1 < n; i++) {
        if (rows[i].label) pos_so_far++;
        else neg_left--;
        double acc = (double)(pos_so_far + neg_left) / (double)n;
        if (acc > max_acc) {
            max_acc = acc;
            acc_thr = midpoint(rows[i].s, rows[i + 1].s);
        }
    }
    /* F1 */
    double best_f1 = 0, best_p = 0, best_r = 0, f1_thr = 0;
    size_t nextract = 0, ncorrect = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        nextract++;
        if (rows[i].label) ncorrect++;
        if (ncorrect > 0) {
            double p = (double)ncorrect / (double)nextract, r = (double)ncorrect / (double)total_pos;
            double f1 = 2 * p * r / (p + r);
            if (f1 > best_f1) {
                best_f1 = f1;
                best_p = p;
                best_r = r;
                f1_thr = midpoint(rows[i].s, rows[i + 1].s);
            }
        }
    }
    out->accuracy = max_acc;
    out->accuracy_threshold = acc_thr;
    out->f1 = best_f1;
    out->f1_threshold = f1_thr;
    out->precision = best_p;
    out->recall = best_r;
    int *lab = (int *)rows; /* reuse: labels in input order for AP */
    for (size_t i = 0; i < n; i++) lab[i] = labels[i] != 0;
    out->ap = cm_average_precision(lab, ap_s, n);
    free(rows);
    free(ap_s);
    return isnan(out->ap) ? CM_ERR_NOMEM : CM_OK;
}

void cm_pair_scores(const float *a, const float *b, size_t n, size_t dim, float *cosine, float *dot,
                    float *euclidean, float *manhattan) {
    /* cosine, euclidean and manhattan exactly as scikit-learn's paired
     * distances compute them in float32 (tasks/metrics/npfloat.h), so ties
     * fall where MTEB's do; dot is np.dot (BLAS, order unspecified): double. */
    float *scratch = malloc((3 * dim + 1) * sizeof *scratch);
    for (size_t i = 0; i < n; i++) {
        const float *x = a + i * dim, *y = b + i * dim;
        double d = 0;
        for (size_t k = 0; k < dim; k++) d += (double)x[k] * y[k];
        dot[i] = (float)d;
        if (scratch) cm_np_paired_f32(x, y, dim, scratch, &cosine[i], &manhattan[i], &euclidean[i]);
        else cosine[i] = manhattan[i] = euclidean[i] = NAN;
    }
    free(scratch);
}
