/*
 * sampling.c: MTEB's training-set undersampling and its stratified test
 * subsample (see sampling.h), drawing from the exact numpy streams in
 * tasks/random.
 */
#include "tasks/classification/sampling.h"
#include "tasks/random/random.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int cm_undersample_next(size_t *idxs, size_t n, const int *labels, int n_labels, size_t per_label,
                        uint32_t seed, size_t *sel, size_t *n_sel) {
    cm_mt19937 st;
    cm_mt_seed(&st, seed);
    cm_rs_shuffle(&st, idxs, n);
    size_t *count = cm_calloc((size_t)(n_labels > 0 ? n_labels : 1), sizeof *count);
    if (!count) return CM_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int lab = labels[idxs[i]];
        CM_ASSERT(lab >= 0 && lab < n_labels);
        if (count[lab] < per_label) {
            count[lab]++;
            sel[k++] = idxs[i];
        }
    }
    free(count);
    *n_sel = k;
    return CM_OK;
}

/* datasets' approximate_mode: per-class draws summing to n_draws, ties in the
 * left-over fraction broken by rng.choice. out[c] gets the count. */
static int approximate_mode(const size_t *counts, int k, size_t n_draws, cm_pcg64 *g, size_t *out) {
    size_t total = 0;
    for (int c = 0; c < k; c++) total += counts[c];
    double *rem = cm_malloc((size_t)k * sizeof *rem);
    size_t *inds = cm_malloc((size_t)k * sizeof *inds), *pick = cm_malloc((size_t)k * sizeof *pick);
    double *vals = cm_malloc((size_t)k * sizeof *vals);
    int rc = CM_OK;
    if (!rem || !inds || !pick || !vals) { rc = CM_ERR_NOMEM; goto done; }
    double floored_sum = 0;
    for (int c = 0; c < k; c++) {
        /* numpy: n_draws * class_counts (int64) / class_counts.sum() */
        double cont = (double)(n_draws * counts[c]) / (double)total;
        double fl = floor(cont);
        out[c] = (size_t)fl;
        rem[c] = cont - fl;
        floored_sum += fl;
    }
    long need = (long)((double)n_draws - floored_sum);
    if (need > 0) {
        /* distinct remainders, largest first */
        int nv = 0;
        for (int c = 0; c < k; c++) {
            int seen = 0;
            for (int v = 0; v < nv; v++) seen |= vals[v] == rem[c];
            if (!seen) vals[nv++] = rem[c];
        }
        for (int a = 1; a < nv; a++)        /* insertion sort, descending */
            for (int b = a; b > 0 && vals[b] > vals[b - 1]; b--) {
                double t = vals[b]; vals[b] = vals[b - 1]; vals[b - 1] = t;
            }
        for (int v = 0; v < nv && need > 0; v++) {
            size_t m = 0;
            for (int c = 0; c < k; c++)
                if (rem[c] == vals[v]) inds[m++] = (size_t)c;
            size_t add = m < (size_t)need ? m : (size_t)need;
            if ((rc = cm_pcg_choice_noreplace(g, m, add, pick))) goto done;
            for (size_t i = 0; i < add; i++) out[inds[pick[i]]]++;
            need -= (long)add;
        }
    }
done:
    free(rem); free(inds); free(pick); free(vals);
    return rc;
}

int cm_stratified_subsample(const int *labels, size_t n, int n_classes, size_t n_test, uint64_t seed,
                            size_t *test_out) {
    size_t n_train = n - n_test;
    size_t *counts = cm_calloc((size_t)n_classes, sizeof *counts);
    size_t *start = cm_calloc((size_t)n_classes + 1, sizeof *start);
    size_t *n_i = cm_calloc((size_t)n_classes, sizeof *n_i), *t_i = cm_calloc((size_t)n_classes, sizeof *t_i);
    size_t *remaining = cm_calloc((size_t)n_classes, sizeof *remaining);
    size_t *by_class = cm_malloc((n ? n : 1) * sizeof *by_class), *perm = cm_malloc((n ? n : 1) * sizeof *perm);
    size_t *train = cm_malloc((n ? n : 1) * sizeof *train);
    int rc = CM_OK;
    if (!counts || !start || !n_i || !t_i || !remaining || !by_class || !perm || !train) {
        rc = CM_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        CM_ASSERT(labels[i] >= 0 && labels[i] < n_classes);
        counts[labels[i]]++;
    }
    for (int c = 0; c < n_classes; c++) {
        if (counts[c] < 2) {
            rc = cm_error(CM_ERR_ARG, "stratified subsample: class %d has %zu member(s); every class needs at least 2",
                          c, counts[c]);
            goto done;
        }
    }
    if (n_test >= n || n_train < (size_t)n_classes || n_test < (size_t)n_classes) {
        rc = cm_error(CM_ERR_ARG,
                      "stratified subsample: cannot split %zu rows into %zu train and %zu test with %d classes", n,
                      n_train, n_test, n_classes);
        goto done;
    }
    /* Row indices grouped by class, ascending inside a class (a stable argsort). */
    for (int c = 0; c < n_classes; c++) start[c + 1] = start[c] + counts[c];
    {
        size_t *fill = remaining; /* reuse as a cursor */
        for (int c = 0; c < n_classes; c++) fill[c] = start[c];
        for (size_t i = 0; i < n; i++) by_class[fill[labels[i]]++] = i;
    }
    cm_pcg64 g;
    cm_pcg_seed(&g, seed);
    if ((rc = approximate_mode(counts, n_classes, n_train, &g, n_i))) goto done;
    for (int c = 0; c < n_classes; c++) remaining[c] = counts[c] - n_i[c];
    if ((rc = approximate_mode(remaining, n_classes, n_test, &g, t_i))) goto done;
    size_t ntr = 0, nte = 0;
    for (int c = 0; c < n_classes; c++) {
        cm_pcg_permutation(&g, counts[c], perm);
        const size_t *rows = by_class + start[c];
        for (size_t j = 0; j < n_i[c]; j++) train[ntr++] = rows[perm[j]];
        for (size_t j = n_i[c]; j < n_i[c] + t_i[c]; j++) test_out[nte++] = rows[perm[j]];
    }
    CM_ASSERT(nte == n_test);
    /* HF permutes train, then test; the train permutation only advances the stream. */
    cm_pcg_shuffle(&g, train, ntr);
    cm_pcg_shuffle(&g, test_out, nte);
done:
    free(counts); free(start); free(n_i); free(t_i); free(remaining); free(by_class); free(perm); free(train);
    return rc;
}
