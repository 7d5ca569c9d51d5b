/*
 * test_kmeans_kernel.c: the blocked nearest-centre kernel of
 * tasks/clustering/nearest.c (AVX when the CPU has it) against the
 * point-by-point loop (params.pointwise = 1, the path test_kmeans pins to
 * scikit-learn), which sums x.c in the same order:
 *   - cm_kmeans_assign on planted near-ties (points at the midpoint of two
 *     centres plus noise of a few ulps, exact duplicates of centres, an
 *     integer grid with exact ties) and on shapes with a d % 8 tail and k not
 *     a multiple of the kernel's 4 centres: labels and inertia identical; an
 *     sgemm argmin (computed here) disagrees with the loop on some of these
 *     points, so the data does separate summation orders;
 *   - cm_km_nearest on any sub-range [i0, i1) gives the whole call's labels;
 *   - k-means++'s products (cm_km_dotd_2x4): the AVX path's bits equal the
 *     portable loop's for widths with and without a d % 4 tail;
 *   - whole MiniBatchKMeans runs (Gaussian blobs, the grid, 1 and 4 threads):
 *     labels, centres, steps and inertia identical to the pointwise run, and
 *     to the 1-thread run with 4 threads (also with mini-batch steps large
 *     enough for the centre update to split its dims over the threads), and
 *     to cm_minibatch_kmeans_rows over the rows copied elsewhere (reversed,
 *     with gaps) and given by pointers.
 */
#include "check.h"
#include "tasks/clustering/kmeans.h"
#include "tasks/clustering/nearest.h"

#include <cblas.h>
#include <stdint.h>
#include <string.h>

static uint64_t rs = 88172645463325252ull;
static double urand(void) { /* xorshift64*, [0, 1) */
    rs ^= rs >> 12; rs ^= rs << 25; rs ^= rs >> 27;
    return (double)((rs * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}
static double nrand(void) {
    double u = urand() + 1e-12, v = urand();
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* argmin_j fl(||c_j||^2 - 2 * sgemm(x, c_j)) with ||c||^2 from sgemm too: the shortcut without re-check. */
static size_t naive_disagreements(const float *X, size_t n, size_t d, const float *C, int k, const int *ref) {
    float *S = malloc(n * (size_t)k * sizeof *S), *cn = malloc((size_t)k * sizeof *cn);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)n, k, (blasint)d, 1.0f, X, (blasint)d, C,
                (blasint)d, 0.0f, S, k);
    for (int j = 0; j < k; j++) {
        float s = 0;
        for (size_t f = 0; f < d; f++) s += C[(size_t)j * d + f] * C[(size_t)j * d + f];
        cn[j] = s;
    }
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        int bj = 0;
        float best = cn[0] - 2.0f * S[i * (size_t)k];
        for (int j = 1; j < k; j++) {
            float v = cn[j] - 2.0f * S[i * (size_t)k + j];
            if (v < best) { best = v; bj = j; }
        }
        bad += bj != ref[i];
    }
    free(S);
    free(cn);
    return bad;
}

/* Row pointers to copies of X's rows laid out elsewhere: in reverse order, each after a gap of 3 floats (the
 * kernels must follow the pointers, not assume one matrix). *store (to free) holds the copies. */
static const float **scattered_rows(const float *X, size_t n, size_t d, float **store) {
    const float **P = malloc((n ? n : 1) * sizeof *P);
    float *buf = malloc((n ? n : 1) * (d + 3) * sizeof *buf);
    for (size_t i = 0; i < n; i++) {
        float *r = buf + (n - 1 - i) * (d + 3) + 3;
        memcpy(r, X + i * d, d * sizeof *r);
        P[i] = r;
    }
    *store = buf;
    return P;
}

static void check_assign(const char *name, const float *X, size_t n, size_t d, const float *C, int k,
                         int expect_naive_bad) {
    int *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *b4 = malloc(n * sizeof *b4);
    double ia = 0, ib = 0, ib4 = 0;
    CHECK_OK(cm_kmeans_assign(X, n, d, C, k, 1, 1, a, &ia));
    CHECK_OK(cm_kmeans_assign(X, n, d, C, k, 0, 1, b, &ib));
    CHECK_OK(cm_kmeans_assign(X, n, d, C, k, 0, 4, b4, &ib4));
    size_t diff = 0;
    for (size_t i = 0; i < n; i++) diff += a[i] != b[i];
    size_t naive = naive_disagreements(X, n, d, C, k, a);
    printf("%-28s n=%zu d=%zu k=%d: kernel (%s) vs pointwise %zu differ; sgemm argmin %zu differ\n", name, n, d, k,
           cm_km_nearest_simd() ? "AVX" : "portable", diff, naive);
    CHECK(diff == 0);
    CHECK(memcmp(b, b4, n * sizeof *b) == 0);
    CHECK(ia == ib && ib == ib4);
    if (expect_naive_bad) CHECK(naive > 0);
    /* sub-ranges: odd starts and lengths (the kernel's blocks of 2 points restart at i0) */
    float *cn = malloc((size_t)k * sizeof *cn);
    for (int j = 0; j < k; j++) cn[j] = cm_km_dotf(C + (size_t)j * d, C + (size_t)j * d, d);
    int *part = malloc(n * sizeof *part);
    float *store;
    const float **P = scattered_rows(X, n, d, &store);
    for (size_t i0 = 0; i0 < n;) {
        size_t len = 1 + (i0 * 7919) % 13, i1 = i0 + len < n ? i0 + len : n;
        cm_km_nearest(P, NULL, i0, i1, d, C, cn, k, 0, part);
        i0 = i1;
    }
    CHECK(memcmp(part, a, n * sizeof *a) == 0);
    free(cn); free(part); free(P); free(store);
    free(a); free(b); free(b4);
}

static void check_run(const char *name, const float *X, size_t n, size_t d, int k, int batch) {
    int *l1 = malloc(n * sizeof *l1);
    float *c1 = malloc((size_t)k * d * sizeof *c1);
    for (int threads = 1; threads <= 4; threads += 3) {
        cm_kmeans_params p = cm_kmeans_default_params();
        p.n_clusters = k;
        p.batch_size = batch;
        p.threads = threads;
        int *la = malloc(n * sizeof *la), *lb = malloc(n * sizeof *lb);
        float *ca = malloc((size_t)k * d * sizeof *ca), *cb = malloc((size_t)k * d * sizeof *cb);
        cm_kmeans_info ia, ib;
        cm_mt19937 rng;
        p.pointwise = 1;
        cm_mt_seed(&rng, 42);
        CHECK_OK(cm_minibatch_kmeans(X, n, d, &p, &rng, la, ca, &ia));
        p.pointwise = 0;
        cm_mt_seed(&rng, 42);
        CHECK_OK(cm_minibatch_kmeans(X, n, d, &p, &rng, lb, cb, &ib));
        int same = !memcmp(la, lb, n * sizeof *la) && !memcmp(ca, cb, (size_t)k * d * sizeof *ca) &&
                   ia.n_steps == ib.n_steps && ia.inertia == ib.inertia;
        printf("%-28s threads %d: steps %d vs %d, inertia %.9g vs %.9g: %s\n", name, threads, ia.n_steps, ib.n_steps,
               ia.inertia, ib.inertia, same ? "identical" : "DIFFERENT");
        CHECK(same);
        {   /* the same run over scattered row pointers */
            float *store, *cc = malloc((size_t)k * d * sizeof *cc);
            int *lc = malloc(n * sizeof *lc);
            const float **P = scattered_rows(X, n, d, &store);
            cm_kmeans_info ic;
            cm_mt_seed(&rng, 42);
            CHECK_OK(cm_minibatch_kmeans_rows(P, n, d, &p, &rng, lc, cc, &ic));
            CHECK(!memcmp(lb, lc, n * sizeof *lb) && !memcmp(cb, cc, (size_t)k * d * sizeof *cb) &&
                  ib.n_steps == ic.n_steps && ib.inertia == ic.inertia);
            free(store); free(P); free(cc); free(lc);
        }
        if (threads == 1) {
            memcpy(l1, lb, n * sizeof *l1);
            memcpy(c1, cb, (size_t)k * d * sizeof *c1);
        } else {   /* the thread count changes nothing (a large step splits the centre update's dims) */
            CHECK(!memcmp(l1, lb, n * sizeof *l1) && !memcmp(c1, cb, (size_t)k * d * sizeof *c1));
        }
        free(la); free(lb); free(ca); free(cb);
    }
    free(l1); free(c1);
}

static void check_dotd_2x4(size_t d) {
    float *v = malloc(6 * d * sizeof *v);
    for (size_t i = 0; i < 6 * d; i++) v[i] = (float)nrand();
    const float *y[4] = {v + 2 * d, v + 3 * d, v + 4 * d, v + 5 * d};
    double a[2][4], b[2][4];
    cm_km_dotd_2x4(v, v + d, y, d, 0, a);
    cm_km_dotd_2x4(v, v + d, y, d, 1, b);
    printf("k-means++ products d=%zu: %s path %s the portable loop's bits\n", d, cm_km_nearest_simd() ? "AVX" : "portable",
           memcmp(a, b, sizeof a) ? "DIFFERS from" : "equals");
    CHECK(memcmp(a, b, sizeof a) == 0);
    free(v);
}

int main(void) {
    check_dotd_2x4(384);
    check_dotd_2x4(13);
    check_dotd_2x4(3);
    check_dotd_2x4(100);
    /* 1. midpoints of centre pairs (+ a few ulps of noise), duplicates of centres */
    {
        const size_t d = 384, n = 6000;
        const int k = 24;
        float *C = malloc((size_t)k * d * sizeof *C), *X = malloc(n * d * sizeof *X);
        for (size_t i = 0; i < (size_t)k * d; i++) C[i] = (float)nrand();
        for (size_t i = 0; i < n; i++) {
            int a = (int)(urand() * k), b = (int)(urand() * k);
            float *x = X + i * d;
            if (i % 10 == 0) {
                memcpy(x, C + (size_t)a * d, d * sizeof *x);
                continue;
            }
            for (size_t f = 0; f < d; f++) {
                float m = 0.5f * (C[(size_t)a * d + f] + C[(size_t)b * d + f]);
                x[f] = m * (float)(1.0 + 4e-7 * nrand());
            }
        }
        check_assign("midpoints + duplicates", X, n, d, C, k, 1);
        free(C); free(X);
    }
    /* 2. integer grid, integer centres: many exact ties */
    {
        const size_t d = 8, n = 4000;
        const int k = 16;
        float *C = malloc((size_t)k * d * sizeof *C), *X = malloc(n * d * sizeof *X);
        for (size_t i = 0; i < (size_t)k * d; i++) C[i] = (float)(int)(urand() * 4);
        for (size_t i = 0; i < n * d; i++) X[i] = (float)(int)(urand() * 4);
        check_assign("integer grid (exact ties)", X, n, d, C, k, 0);
        check_run("k-means on the grid", X, n, d, k, 500);
        free(C); free(X);
    }
    /* 3. a d % 8 tail and k not a multiple of 4, near-ties as in 1 */
    {
        const size_t dims[3] = {13, 100, 3};
        const int ks[3] = {7, 5, 2};
        for (int t = 0; t < 3; t++) {
            const size_t d = dims[t], n = 3001;
            const int k = ks[t];
            float *C = malloc((size_t)k * d * sizeof *C), *X = malloc(n * d * sizeof *X);
            for (size_t i = 0; i < (size_t)k * d; i++) C[i] = (float)nrand();
            for (size_t i = 0; i < n; i++) {
                int a = (int)(urand() * k), b = (int)(urand() * k);
                for (size_t f = 0; f < d; f++) {
                    float m = 0.5f * (C[(size_t)a * d + f] + C[(size_t)b * d + f]);
                    X[i * d + f] = m * (float)(1.0 + 4e-7 * nrand());
                }
            }
            char name[64];
            snprintf(name, sizeof name, "midpoints, d=%zu k=%d", d, k);
            check_assign(name, X, n, d, C, k, 1);
            free(C); free(X);
        }
    }
    /* 4. whole runs on Gaussian blobs, unnormalised and L2-normalised (as embeddings are) */
    {
        const size_t d = 64, n = 5000;
        const int k = 20, labels = 12;
        float *M = malloc((size_t)labels * d * sizeof *M), *X = malloc(n * d * sizeof *X);
        for (size_t i = 0; i < (size_t)labels * d; i++) M[i] = (float)nrand();
        for (size_t i = 0; i < n; i++) {
            int y = (int)(urand() * labels);
            for (size_t f = 0; f < d; f++) X[i * d + f] = M[(size_t)y * d + f] + (float)(1.5 * nrand());
        }
        check_run("Gaussian blobs", X, n, d, k, 500);
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t f = 0; f < d; f++) s += (double)X[i * d + f] * X[i * d + f];
            for (size_t f = 0; f < d; f++) X[i * d + f] = (float)(X[i * d + f] / sqrt(s));
        }
        check_run("normalised blobs", X, n, d, k, 500);
        free(M); free(X);
    }
    /* 5. steps large enough for the centre update to split its dims over the threads (batch x d x k > 16M) */
    {
        const size_t d = 520, n = 3000;
        const int k = 33, labels = 9;
        float *M = malloc((size_t)labels * d * sizeof *M), *X = malloc(n * d * sizeof *X);
        for (size_t i = 0; i < (size_t)labels * d; i++) M[i] = (float)nrand();
        for (size_t i = 0; i < n; i++) {
            int y = (int)(urand() * labels);
            for (size_t f = 0; f < d; f++) X[i * d + f] = M[(size_t)y * d + f] + (float)(2.0 * nrand());
        }
        check_run("large steps (split update)", X, n, d, k, 1024);
        free(M); free(X);
    }
    float C1[2] = {0, 1};
    int l1[1];
    CHECK(cm_kmeans_assign(C1, 1, 2, C1, 0, 0, 1, l1, NULL) == CM_ERR_ARG);
    return check_report();
}
