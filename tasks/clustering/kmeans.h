/*
 * kmeans.h: scikit-learn 1.2's MiniBatchKMeans(init="k-means++") step for
 * step, drawing from a numpy RandomState stream (tasks/random) in the order
 * sklearn draws:
 *
 *   validation indices    randint(0, n, init_size)
 *   per init              randint(0, n, init_size) subset, then greedy
 *                         k-means++ on it: randint(n) first centre, then per
 *                         centre 2 + floor(ln k) candidates drawn by
 *                         uniform() * potential over the cumulative squared
 *                         distances, keeping the candidate that lowers the
 *                         potential most
 *   per step              randint(0, n, batch) mini-batch; labels by nearest
 *                         centre; centres move to the running mean
 *                         (counts-weighted); every 10 k samples (or when a
 *                         centre has count 0) centres with count < ratio *
 *                         max count are reset to random batch points
 *                         (choice(batch, m, replace=False))
 *   stop                  after (max_iter * n) / batch steps, or when the
 *                         exponentially weighted batch inertia has not
 *                         improved for max_no_improvement steps (or, with
 *                         tol > 0, when the centres move less than tol)
 *   result                labels of all points for the final centres.
 *
 * Labels: the nearest-centre kernel of nearest.c, which sums every x.c in
 * the order of the point-by-point loop (cm_km_dotf: 8 lanes, a fixed tree),
 * so the labels are that loop's (params.pointwise = 1 runs the loop itself)
 * and do not depend on the CPU's vector width or the number of threads. It
 * is not bit-identical to scikit-learn's (BLAS summation order differs), so
 * long runs may drift apart; the scores agree statistically.
 *
 * Ownership: inputs borrowed; labels caller-allocated (n).
 */
#ifndef CMTEB_TASKS_CLUSTERING_KMEANS_H
#define CMTEB_TASKS_CLUSTERING_KMEANS_H

#include <stddef.h>

#include "tasks/random/random.h"

typedef struct cm_kmeans_params {
    int    n_clusters;          /* k >= 1 */
    int    batch_size;          /* default 1024 (MTEB v1 uses 500, ClusteringFast 512) */
    int    max_iter;            /* passes over the data (default 100) */
    int    max_no_improvement;  /* default 10; <= 0 disables the check */
    double reassignment_ratio;  /* default 0.01 */
    double tol;                 /* default 0.0 */
    int    n_init;              /* default 1 (what n_init="auto" means for k-means++) */
    int    init_size;           /* 0: 3 * batch_size (at least 3 k), at most n */
    int    threads;             /* 0: all cores */
    int    pointwise;           /* 1: assignment by the portable point-by-point loop instead of the
                                   blocked kernel (the reference it must equal; default 0) */
} cm_kmeans_params;

cm_kmeans_params cm_kmeans_default_params(void);

typedef struct cm_kmeans_info {
    int    n_steps;   /* mini-batch steps taken (n_steps_) */
    int    n_iter;    /* ceil(n_steps * batch / n) (n_iter_) */
    double inertia;   /* sum of squared distances to the final centres (inertia_) */
} cm_kmeans_info;

/* Clusters X (n, d) row-major into labels[0..n) in [0, k). rng is advanced.
 * n < k is CM_ERR_ARG (as scikit-learn refuses it). centers may be NULL, or
 * receive the final centres (k, d). */
int cm_minibatch_kmeans(const float *X, size_t n, size_t d, const cm_kmeans_params *params, cm_mt19937 *rng,
                        int *labels, float *centers, cm_kmeans_info *info);
/* The same over n points given by their rows: P[i] is point i (d floats, borrowed; rows may lie anywhere, e.g.
 * in a vector store's map). Same results as cm_minibatch_kmeans on the rows copied into one matrix. */
int cm_minibatch_kmeans_rows(const float *const *P, size_t n, size_t d, const cm_kmeans_params *params,
                             cm_mt19937 *rng, int *labels, float *centers, cm_kmeans_info *info);

/* The k-means++ seeding alone (sklearn's _kmeans_plusplus) over the m points
 * X[rows[0..m)]: writes k centres to C (k, d) and, when chosen is not NULL,
 * the rows picked (as indices into X) to chosen[0..k). threads 0: all. */
int cm_kmeans_plusplus(const float *X, size_t d, const size_t *rows, size_t m, int k, cm_mt19937 *rng, int threads,
                       float *C, size_t *chosen);

/* Nearest of the k centres C (k, d) for every point of X (n, d) into
 * labels[0..n) (first minimum of ||c||^2 - 2 x.c, as the step above uses);
 * *inertia (may be NULL) gets the sum of squared distances. pointwise 1: the
 * point-by-point reference loop; 0: the blocked kernel (same labels). All buffers borrowed; threads 0: all. */
int cm_kmeans_assign(const float *X, size_t n, size_t d, const float *C, int k, int pointwise, int threads,
                     int *labels, double *inertia);

#endif
