/*
 * vmeasure.c: V-measure with scikit-learn's arithmetic (see vmeasure.h).
 */
#include "tasks/clustering/vmeasure.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Dense ids in sorted order of value (np.unique(..., return_inverse=True)). */
typedef struct { int v; size_t i; } val_idx;

static int cmp_val(const void *a, const void *b) {
    const val_idx *x = a, *y = b;
    if (x->v != y->v) return (x->v > y->v) - (x->v < y->v);
    return (x->i > y->i) - (x->i < y->i);
}

/* Label values spanning at most this many integers get dense ids by counting instead of sorting. */
#define DENSE_SPAN_MAX ((int64_t)1 << 22)

static int dense_ids(const int *lab, size_t n, int *out, size_t *n_ids) {
    int lo = 0, hi = -1;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || lab[i] < lo) lo = lab[i];
        if (i == 0 || lab[i] > hi) hi = lab[i];
    }
    const int64_t span = n ? (int64_t)hi - lo + 1 : 0;
    if (span <= DENSE_SPAN_MAX && (size_t)span <= 4 * n + 1024) {   /* rank of each value among those present */
        int *rank = cm_calloc((size_t)span + 1, sizeof *rank);
        if (!rank) return CM_ERR_NOMEM;
        for (size_t i = 0; i < n; i++) rank[lab[i] - lo] = 1;
        int k = 0;
        for (int64_t v = 0; v < span; v++) {
            const int present = rank[v];
            rank[v] = k;
            k += present;
        }
        for (size_t i = 0; i < n; i++) out[i] = rank[lab[i] - lo];
        *n_ids = (size_t)k;
        free(rank);
        return CM_OK;
    }
    val_idx *t = cm_malloc(n * sizeof *t);
    if (!t) return CM_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) { t[i].v = lab[i]; t[i].i = i; }
    qsort(t, n, sizeof *t, cmp_val);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && t[i].v != t[i - 1].v) k++;
        out[t[i].i] = (int)k;
    }
    *n_ids = n ? k + 1 : 0;
    free(t);
    return CM_OK;
}

/* sklearn.metrics.cluster.entropy over counts (all > 0). */
static double entropy(const double *cnt, size_t k) {
    if (k <= 1) return 0.0;
    double sum = 0.0;
    for (size_t i = 0; i < k; i++) sum += cnt[i];
    double lsum = log(sum), h = 0.0;
    for (size_t i = 0; i < k; i++) h += (cnt[i] / sum) * (log(cnt[i]) - lsum);
    return -h;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int cm_v_measure(const int *labels_true, const int *labels_pred, size_t n, double *v, double *h, double *c) {
    double hom = 1.0, com = 1.0, vm = 1.0;
    if (n == 0) goto out;
    int *ct = cm_malloc(n * sizeof *ct), *cp = cm_malloc(n * sizeof *cp);
    int64_t *keys = cm_malloc(n * sizeof *keys);
    double *pi = NULL, *pj = NULL;
    if (!ct || !cp || !keys) { free(ct); free(cp); free(keys); return CM_ERR_NOMEM; }
    size_t kc, kk;
    int rc = dense_ids(labels_true, n, ct, &kc);
    if (!rc) rc = dense_ids(labels_pred, n, cp, &kk);
    if (!rc) {
        pi = cm_calloc(kc, sizeof *pi);
        pj = cm_calloc(kk, sizeof *pj);
        if (!pi || !pj) rc = CM_ERR_NOMEM;
    }
    if (rc) { free(ct); free(cp); free(keys); free(pi); free(pj); return rc; }
    for (size_t i = 0; i < n; i++) {
        pi[ct[i]] += 1.0;
        pj[cp[i]] += 1.0;
        keys[i] = (int64_t)ct[i] * (int64_t)kk + cp[i];
    }
    double hc = entropy(pi, kc), hk = entropy(pj, kk), mi = 0.0;
    if (kc > 1 && kk > 1) {
        /* non-zero cells in row-major order, as scipy's sp.find returns them: counted into the table when it
         * is small, else the cell keys sorted */
        uint32_t *table = (uint64_t)kc * kk <= (uint64_t)4 * n + 4096 ? cm_calloc(kc * kk, sizeof *table) : NULL;
        size_t ncell = 0;
        if (table) {
            for (size_t i = 0; i < n; i++) table[keys[i]]++;
            for (size_t key = 0; key < kc * kk; key++)
                if (table[key]) { keys[ncell] = (int64_t)key; ct[ncell++] = (int)table[key]; }
            free(table);
        } else {
            qsort(keys, n, sizeof *keys, cmp_i64);
            for (size_t a = 0; a < n;) {
                size_t b = a;
                while (b < n && keys[b] == keys[a]) b++;
                keys[ncell] = keys[a];
                ct[ncell++] = (int)(b - a);
                a = b;
            }
        }
        const double total = (double)n, ltotal = log(total);
        /* log(pi.sum()) + log(pj.sum()): both sums are n */
        const double lsums = log(total) + log(total);
        for (size_t e = 0; e < ncell; e++) {
            double nz = (double)ct[e];
            size_t r = (size_t)(keys[e] / (int64_t)kk), q = (size_t)(keys[e] % (int64_t)kk);
            double cnm = nz / total;
            double outer = (double)((int64_t)pi[r] * (int64_t)pj[q]);
            double term = cnm * (log(nz) - ltotal) + cnm * (-log(outer) + lsums);
            if (fabs(term) >= DBL_EPSILON) mi += term;
        }
        if (mi < 0.0) mi = 0.0;
    }
    hom = hc != 0.0 ? mi / hc : 1.0;
    com = hk != 0.0 ? mi / hk : 1.0;
    vm = hom + com == 0.0 ? 0.0 : 2.0 * hom * com / (hom + com);
    free(ct); free(cp); free(keys); free(pi); free(pj);
out:
    *v = vm;
    if (h) *h = hom;
    if (c) *c = com;
    return CM_OK;
}
