/*
 * learning_bench.c: times cmteb's learning evaluators' cores on vectors
 * given as .npy files, for bench/learning_bench.sh to set beside
 * scikit-learn on the same files (bench/learning_bench.py).
 *
 *   learning_bench clf XTRAIN.npy YTRAIN.npy XTEST.npy YTEST.npy N_EXP PER_LABEL
 *       MTEB's classification protocol without the encoding: N_EXP chained
 *       RandomState(42) undersamplings of PER_LABEL rows per label, lbfgs
 *       logistic regression, prediction and metrics on the test rows.
 *   learning_bench cluster X.npy LABELS.npy BATCH
 *       MiniBatchKMeans (k = distinct labels, RandomState(42)) + V-measure.
 *
 * Labels are float32 .npy columns holding small non-negative integers.
 * Prints one JSON line: {"seconds": ..., "score": ..., ...}.
 */
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "tasks/classification/clf_metrics.h"
#include "tasks/classification/logreg.h"
#include "tasks/classification/sampling.h"
#include "tasks/clustering/kmeans.h"
#include "tasks/clustering/vmeasure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int *read_labels(const char *path, size_t *n, int *n_labels) {
    float *v = NULL;
    size_t d = 0;
    if (cm_npy_read_f32(path, &v, n, &d)) {
        fprintf(stderr, "%s\n", cm_last_error());
        exit(1);
    }
    int *l = malloc(*n * sizeof *l);
    *n_labels = 0;
    for (size_t i = 0; i < *n; i++) {
        l[i] = (int)v[i];
        if (l[i] + 1 > *n_labels) *n_labels = l[i] + 1;
    }
    free(v);
    return l;
}

static float *read_x(const char *path, size_t *n, size_t *d) {
    float *x = NULL;
    if (cm_npy_read_f32(path, &x, n, d)) {
        fprintf(stderr, "%s\n", cm_last_error());
        exit(1);
    }
    return x;
}

static int bench_clf(char **argv) {
    size_t ntr, d, nte, d2, n1, n2;
    int L1, L2;
    float *Xtr = read_x(argv[0], &ntr, &d), *Xte = read_x(argv[2], &nte, &d2);
    int *ytr = read_labels(argv[1], &n1, &L1), *yte = read_labels(argv[3], &n2, &L2);
    int n_exp = atoi(argv[4]);
    size_t per = (size_t)atoi(argv[5]);
    int L = L1 > L2 ? L1 : L2;
    size_t *idxs = malloc(ntr * sizeof *idxs), *sel = malloc(ntr * sizeof *sel);
    float *Xs = malloc(ntr * d * sizeof *Xs);
    int *ys = malloc(ntr * sizeof *ys), *pred = malloc(nte * sizeof *pred), *cls = malloc((size_t)L * sizeof *cls),
        *glob = malloc((size_t)L * sizeof *glob);
    for (size_t i = 0; i < ntr; i++) idxs[i] = i;
    double t0 = cm_now(), acc = 0, f1 = 0, fit_s = 0, iters = 0;
    for (int e = 0; e < n_exp; e++) {
        size_t k = 0;
        CM_ASSERT(cm_undersample_next(idxs, ntr, ytr, L, per, 42, sel, &k) == CM_OK);
        for (int c = 0; c < L; c++) cls[c] = -1;
        for (size_t i = 0; i < k; i++) cls[ytr[sel[i]]] = 0;
        int K = 0;
        for (int c = 0; c < L; c++)
            if (!cls[c]) { glob[K] = c; cls[c] = K++; }
        for (size_t i = 0; i < k; i++) {
            memcpy(Xs + i * d, Xtr + sel[i] * d, d * sizeof *Xs);
            ys[i] = cls[ytr[sel[i]]];
        }
        cm_logreg *m = NULL;
        double tf = cm_now();
        CM_ASSERT(cm_logreg_fit(&m, Xs, k, d, ys, K, NULL) == CM_OK);
        fit_s += cm_now() - tf;
        iters += m->n_iter;
        CM_ASSERT(cm_logreg_predict(m, Xte, nte, pred) == CM_OK);
        for (size_t i = 0; i < nte; i++) pred[i] = glob[pred[i]];
        cm_clf_scores s;
        CM_ASSERT(cm_clf_scores_compute(yte, pred, nte, L, K == 2 ? glob[1] : -1, &s) == CM_OK);
        acc += s.accuracy;
        f1 += s.f1;
        cm_logreg_free(m);
    }
    double secs = cm_now() - t0;
    printf("{\"seconds\": %.4f, \"fit_seconds\": %.4f, \"score\": %.6f, \"f1\": %.6f, \"mean_n_iter\": %.1f}\n", secs,
           fit_s, acc / n_exp, f1 / n_exp, iters / n_exp);
    free(Xtr); free(Xte); free(ytr); free(yte); free(idxs); free(sel); free(Xs); free(ys); free(pred); free(cls);
    free(glob);
    return 0;
}

static int bench_cluster(char **argv) {
    size_t n, d, n2;
    int L;
    float *X = read_x(argv[0], &n, &d);
    int *y = read_labels(argv[1], &n2, &L);
    cm_kmeans_params p = cm_kmeans_default_params();
    p.n_clusters = L;
    p.batch_size = atoi(argv[2]);
    /* CMTEB_KMEANS_POINTWISE=1: the portable point-by-point assignment loop instead of the AVX kernel (same labels) */
    p.pointwise = getenv("CMTEB_KMEANS_POINTWISE") && !strcmp(getenv("CMTEB_KMEANS_POINTWISE"), "1");
    int *pred = malloc(n * sizeof *pred);
    cm_mt19937 rng;
    cm_mt_seed(&rng, 42);
    cm_kmeans_info info;
    double t0 = cm_now(), v = 0;
    CM_ASSERT(cm_minibatch_kmeans(X, n, d, &p, &rng, pred, NULL, &info) == CM_OK);
    CM_ASSERT(cm_v_measure(y, pred, n, &v, NULL, NULL) == CM_OK);
    double secs = cm_now() - t0;
    printf("{\"seconds\": %.4f, \"score\": %.6f, \"n_steps\": %d}\n", secs, v, info.n_steps);
    free(X); free(y); free(pred);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 8 && !strcmp(argv[1], "clf")) return bench_clf(argv + 2);
    if (argc == 5 && !strcmp(argv[1], "cluster")) return bench_cluster(argv + 2);
    fprintf(stderr, "usage: learning_bench clf XTRAIN.npy YTRAIN.npy XTEST.npy YTEST.npy N_EXP PER_LABEL\n"
                    "       learning_bench cluster X.npy LABELS.npy BATCH\n");
    return 2;
}
