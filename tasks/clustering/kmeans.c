/*
 * kmeans.c: MiniBatchKMeans with k-means++ seeding, following scikit-learn
 * 1.2.1's fit() draw for draw (see kmeans.h). Arithmetic mirrors sklearn's
 * dtypes where it decides outcomes: centre updates and counts in float32,
 * k-means++ distances in float64 stored as float32, cumulative sums in
 * float64. Point-to-centre work runs in parallel over points with a fixed
 * per-point summation order.
 */
#include "tasks/clustering/kmeans.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "tasks/clustering/nearest.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Multiply-adds below which a loop runs on one thread: a mini-batch step is
 * a millisecond of work, and waking a team for it costs more than it saves
 * (much more on a loaded machine, where idle threads spin). */
#define PAR_MIN_WORK 16000000u

cm_kmeans_params cm_kmeans_default_params(void) {
    cm_kmeans_params p = {8, 1024, 100, 10, 0.01, 0.0, 1, 0, 0, 0};
    return p;
}

typedef struct {
    const float *const *P;   /* (n) the points' rows, (d) each */
    size_t       n, d;
    int          k, threads;
    float       *cnorm;   /* (k) ||c||^2 as cm_km_dotf computes it */
    double      *dist;    /* (n) per-point squared distance scratch */
    int          pointwise;
} km_ctx;

/* Points per cm_km_nearest call when the assignment runs on several threads. */
#define KM_CHUNK 256

/* Nearest centre (first minimum of ||c||^2 - 2 x.c, x.c summed as cm_km_dotf sums it, as sklearn's
 * _labels_inertia) for m points P[rows[i]] (rows NULL: 0..m-1), by the blocked kernel of nearest.c or, with
 * c->pointwise, its portable point-by-point loop (same bits). Returns the sum of exact squared distances to
 * the chosen centres when want_inertia, else 0 (the distances are then not computed). */
static double assign(km_ctx *c, const size_t *rows, size_t m, const float *C, int *lab, int want_inertia) {
    const size_t d = c->d;
    const int k = c->k;
    for (int j = 0; j < k; j++) c->cnorm[j] = cm_km_dotf(C + (size_t)j * d, C + (size_t)j * d, d);
    double *dist = c->dist;
    const float *cn = c->cnorm;
    const float *const *P = c->P;
    const int portable = c->pointwise;
    const size_t n_chunks = (m + KM_CHUNK - 1) / KM_CHUNK;
#pragma omp parallel for num_threads(c->threads) schedule(static) if (m * (size_t)k * d > PAR_MIN_WORK)
    for (size_t ch = 0; ch < n_chunks; ch++) {
        const size_t i0 = ch * KM_CHUNK, i1 = m - i0 < KM_CHUNK ? m : i0 + KM_CHUNK;
        cm_km_nearest(P, rows, i0, i1, d, C, cn, k, portable, lab);
        if (want_inertia) cm_km_sqdists(P, rows, i0, i1, d, C, lab, portable, dist);
    }
    double s = 0.0;
    if (want_inertia)
        for (size_t i = 0; i < m; i++) s += dist[i];
    return s;
}

/* Greedy k-means++ over the m points P[rows[.]] (sklearn's _kmeans_plusplus). */
static int kmeans_pp(km_ctx *c, const size_t *rows, size_t m, cm_mt19937 *rng, float *C, size_t *chosen) {
    const size_t d = c->d;
    const int k = c->k, trials = 2 + (int)log((double)k);
    const float *const *P = c->P;
    double *xsq = cm_malloc(m * sizeof *xsq), *cum = cm_malloc(m * sizeof *cum);
    float *closest = cm_malloc(m * sizeof *closest), *cand_d = cm_malloc((size_t)trials * m * sizeof *cand_d);
    size_t *cand = cm_malloc((size_t)trials * sizeof *cand);
    double *cand_pot = cm_malloc((size_t)trials * sizeof *cand_pot);
    int rc = CM_OK;
    if (!xsq || !cum || !closest || !cand_d || !cand || !cand_pot) { rc = CM_ERR_NOMEM; goto done; }
    for (size_t j = 0; j < m; j++) xsq[j] = cm_km_dotd(P[rows[j]], P[rows[j]], d);

    size_t first = (size_t)cm_rs_randint(rng, 0, (int64_t)m);
    memcpy(C, P[rows[first]], d * sizeof *C);
    if (chosen) chosen[0] = rows[first];
    {
        const float *y = P[rows[first]];
        double ysq = xsq[first];
#pragma omp parallel for num_threads(c->threads) schedule(static) if (m * d > PAR_MIN_WORK)
        for (size_t j = 0; j < m; j++) {
            double v = -2.0 * cm_km_dotd(y, P[rows[j]], d) + ysq + xsq[j];
            closest[j] = (float)(v > 0 ? v : 0);
        }
    }
    double pot_sum = 0.0;
    for (size_t j = 0; j < m; j++) pot_sum += closest[j];
    float pot = (float)pot_sum;

    for (int ci = 1; ci < k; ci++) {
        double run = 0.0;
        for (size_t j = 0; j < m; j++) { run += (double)closest[j]; cum[j] = run; }
        for (int t = 0; t < trials; t++) {
            double r = cm_mt_next_double(rng) * (double)pot;   /* uniform(size=trials) * potential */
            size_t lo = 0, hi = m;                              /* searchsorted, side="left" */
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (cum[mid] < r) lo = mid + 1;
                else hi = mid;
            }
            cand[t] = lo < m ? lo : m - 1;
        }
#pragma omp parallel for num_threads(c->threads) schedule(static) if (m * d * (size_t)trials > PAR_MIN_WORK)
        for (size_t j0 = 0; j0 < m; j0 += 2) {   /* two points at a time (nearest.c: four candidates, AVX) */
            const size_t nj = m - j0 < 2 ? 1 : 2;
            for (int t0 = 0; t0 < trials; t0 += 4) {
                const int nc = trials - t0 < 4 ? trials - t0 : 4;
                const float *ys[4];
                double dots[2][4];
                for (int q = 0; q < nc; q++) ys[q] = P[rows[cand[t0 + q]]];
                const float *x0 = P[rows[j0]], *x1 = P[rows[j0 + nj - 1]];   /* a last lone point twice */
                if (nc == 4) {
                    cm_km_dotd_2x4(x0, x1, ys, d, c->pointwise, dots);
                } else {
                    for (int q = 0; q < nc; q++) {
                        dots[0][q] = cm_km_dotd(ys[q], x0, d);
                        dots[1][q] = cm_km_dotd(ys[q], x1, d);
                    }
                }
                for (size_t jj = 0; jj < nj; jj++) {
                    const size_t j = j0 + jj;
                    for (int q = 0; q < nc; q++) {
                        const int t = t0 + q;
                        double v = -2.0 * dots[jj][q] + xsq[cand[t]] + xsq[j];
                        float f = (float)(v > 0 ? v : 0);
                        cand_d[(size_t)t * m + j] = f < closest[j] ? f : closest[j];
                    }
                }
            }
        }
        int best = 0;
        for (int t = 0; t < trials; t++) {
            double s = 0.0;
            for (size_t j = 0; j < m; j++) s += cand_d[(size_t)t * m + j];
            cand_pot[t] = (float)s;
            if (cand_pot[t] < cand_pot[best]) best = t;
        }
        pot = (float)cand_pot[best];
        memcpy(closest, cand_d + (size_t)best * m, m * sizeof *closest);
        memcpy(C + (size_t)ci * d, P[rows[cand[best]]], d * sizeof *C);
        if (chosen) chosen[ci] = rows[cand[best]];
    }
done:
    free(xsq); free(cum); free(closest); free(cand_d); free(cand); free(cand_pot);
    return rc;
}

/* The row pointers of X (n, d): a new array (n) the caller frees, NULL when out of memory. */
static const float **rows_of(const float *X, size_t n, size_t d) {
    const float **P = cm_malloc((n ? n : 1) * sizeof *P);
    if (P)
        for (size_t i = 0; i < n; i++) P[i] = X + i * d;
    return P;
}

int cm_kmeans_plusplus(const float *X, size_t d, const size_t *rows, size_t m, int k, cm_mt19937 *rng, int threads,
                       float *C, size_t *chosen) {
    if (k < 1 || m < (size_t)k) return cm_error(CM_ERR_ARG, "k-means++: need at least k=%d points, got %zu", k, m);
    size_t n = 0;
    for (size_t j = 0; j < m; j++) n = rows[j] + 1 > n ? rows[j] + 1 : n;
    const float **P = rows_of(X, n, d);
    if (!P) return CM_ERR_NOMEM;
    km_ctx c = {P, m, d, k, threads > 0 ? threads : omp_get_max_threads(), NULL, NULL, 0};
    int rc = kmeans_pp(&c, rows, m, rng, C, chosen);
    free(P);
    return rc;
}

int cm_kmeans_assign(const float *X, size_t n, size_t d, const float *C, int k, int pointwise, int threads,
                     int *labels, double *inertia) {
    if (k < 1) return cm_error(CM_ERR_ARG, "k-means assignment: need at least one centre, got k=%d", k);
    const float **P = rows_of(X, n, d);
    km_ctx c = {P, n, d, k, threads > 0 ? threads : omp_get_max_threads(), NULL, NULL, pointwise};
    c.cnorm = cm_malloc((size_t)k * sizeof *c.cnorm);
    c.dist = inertia ? cm_malloc((n ? n : 1) * sizeof *c.dist) : NULL;
    int rc = CM_OK;
    if (!P || !c.cnorm || (inertia && !c.dist)) {
        rc = CM_ERR_NOMEM;
    } else {
        double s = assign(&c, NULL, n, C, labels, inertia != NULL);
        if (inertia) *inertia = s;
    }
    free(P); free(c.cnorm); free(c.dist);
    return rc;
}

/* Stable argsort of counts (ascending) into order[0..k). */
static void argsort_counts(const float *counts, int k, int *order) {
    for (int i = 0; i < k; i++) order[i] = i;
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0 && counts[order[j]] < counts[order[j - 1]]; j--) {
            int t = order[j]; order[j] = order[j - 1]; order[j - 1] = t;
        }
}

int cm_minibatch_kmeans(const float *X, size_t n, size_t d, const cm_kmeans_params *params, cm_mt19937 *rng,
                        int *labels, float *centers, cm_kmeans_info *info) {
    const float **P = rows_of(X, n, d);
    if (!P) return CM_ERR_NOMEM;
    int rc = cm_minibatch_kmeans_rows(P, n, d, params, rng, labels, centers, info);
    free(P);
    return rc;
}

int cm_minibatch_kmeans_rows(const float *const *P, size_t n, size_t d, const cm_kmeans_params *params,
                             cm_mt19937 *rng, int *labels, float *centers, cm_kmeans_info *info) {
    cm_kmeans_params p = params ? *params : cm_kmeans_default_params();
    const int k = p.n_clusters;
    if (k < 1) return cm_error(CM_ERR_ARG, "k-means: n_clusters must be at least 1, got %d", k);
    if (n < (size_t)k) return cm_error(CM_ERR_ARG, "k-means: n_samples=%zu should be >= n_clusters=%d", n, k);
    if (p.batch_size < 1 || p.max_iter < 1 || p.n_init < 1 || p.reassignment_ratio < 0)
        return cm_error(CM_ERR_ARG, "k-means: batch_size, max_iter and n_init must be positive and "
                        "reassignment_ratio non-negative");
    const size_t batch = (size_t)p.batch_size < n ? (size_t)p.batch_size : n;
    size_t init_size = p.init_size > 0 ? (size_t)p.init_size : 3 * batch;
    if (init_size < (size_t)k) init_size = 3 * (size_t)k;
    if (init_size > n) init_size = n;
    km_ctx c = {P, n, d, k, p.threads > 0 ? p.threads : omp_get_max_threads(), NULL, NULL, p.pointwise};

    size_t kd = (size_t)k * d, big = n > init_size ? n : init_size;
    float *C = cm_malloc(kd * sizeof *C), *Cnew = cm_malloc(kd * sizeof *Cnew), *Cbest = cm_malloc(kd * sizeof *Cbest);
    float *counts = cm_calloc((size_t)k, sizeof *counts);
    size_t *valid = cm_malloc(init_size * sizeof *valid), *sub = cm_malloc(init_size * sizeof *sub);
    size_t *mb = cm_malloc(batch * sizeof *mb), *perm = cm_malloc(batch * sizeof *perm),
           *pick = cm_malloc(batch * sizeof *pick);
    int *lab = cm_malloc(big * sizeof *lab), *order = cm_malloc((size_t)k * sizeof *order);
    char *to_reassign = cm_malloc((size_t)k);
    float *wsum = cm_malloc((size_t)k * sizeof *wsum);
    c.cnorm = cm_malloc((size_t)k * sizeof *c.cnorm);
    c.dist = cm_malloc(big * sizeof *c.dist);
    int rc = CM_OK;
    if (!C || !Cnew || !Cbest || !counts || !valid || !sub || !mb || !perm || !pick || !lab || !order || !to_reassign ||
        !wsum || !c.cnorm || !c.dist) {
        rc = CM_ERR_NOMEM;
        goto done;
    }

    /* tol relative to the data's mean variance (sklearn's _tolerance) */
    double tol = 0.0;
    if (p.tol > 0) {
        double vsum = 0.0;
        for (size_t f = 0; f < d; f++) {
            double mean = 0.0, var = 0.0;
            for (size_t i = 0; i < n; i++) mean += P[i][f];
            mean /= (double)n;
            for (size_t i = 0; i < n; i++) var += (P[i][f] - mean) * (P[i][f] - mean);
            vsum += var / (double)n;
        }
        tol = vsum / (double)d * p.tol;
    }

    /* Validation set for choosing among inits, then the inits. */
    for (size_t i = 0; i < init_size; i++) valid[i] = (size_t)cm_rs_randint(rng, 0, (int64_t)n);
    double best_inertia = INFINITY;
    for (int init = 0; init < p.n_init; init++) {
        if (init_size < n) {
            for (size_t i = 0; i < init_size; i++) sub[i] = (size_t)cm_rs_randint(rng, 0, (int64_t)n);
        } else {
            for (size_t i = 0; i < n; i++) sub[i] = i;
        }
        if ((rc = kmeans_pp(&c, sub, init_size, rng, C, NULL))) goto done;
        double inertia = p.n_init > 1 ? assign(&c, valid, init_size, C, lab, 1) : 0.0;
        if (init == 0 || inertia < best_inertia) {
            memcpy(Cbest, C, kd * sizeof *C);
            best_inertia = inertia;
        }
    }
    memcpy(C, Cbest, kd * sizeof *C);

    /* Mini-batch steps. */
    const size_t n_steps = ((size_t)p.max_iter * n) / batch;
    double ewa = 0.0, ewa_min = 0.0;
    int have_ewa = 0, have_min = 0, no_improvement = 0;
    size_t since_reassign = 0, step = 0;
    for (step = 0; step < n_steps; step++) {
        for (size_t i = 0; i < batch; i++) mb[i] = (size_t)cm_rs_randint(rng, 0, (int64_t)n);
        /* _random_reassign(), evaluated before the step */
        int reassign = 0;
        since_reassign += batch;
        for (int j = 0; j < k && !reassign; j++) reassign = counts[j] == 0.0f;
        if (reassign || since_reassign >= 10 * (size_t)k) {
            since_reassign = 0;
            reassign = 1;
        }
        double batch_inertia = assign(&c, mb, batch, C, lab, step > 0);   /* step 0's is not used */

        /* centres move to the running mean of their points (float32, as sklearn): each centre with points is
         * scaled by its count, gets its points added in batch order, then is divided by its new count. The points
         * are walked once in batch order (each row read once, the next prefetched), the dims split over the
         * threads when the step is large: every value sees the same operations in the same order as a walk
         * centre by centre. */
        for (int j = 0; j < k; j++) wsum[j] = 0.0f;
        for (size_t i = 0; i < batch; i++) wsum[lab[i]] += 1.0f;
        const int ut = batch * d * (size_t)k > PAR_MIN_WORK ? c.threads : 1;
#pragma omp parallel num_threads(ut) if (ut > 1)
        {
            const size_t nth = (size_t)omp_get_num_threads(), me = (size_t)omp_get_thread_num();
            const size_t f0 = d * me / nth, f1 = d * (me + 1) / nth;
            for (int j = 0; j < k; j++) {
                float *cn = Cnew + (size_t)j * d;
                const float *co = C + (size_t)j * d;
                if (wsum[j] > 0)
                    for (size_t f = f0; f < f1; f++) cn[f] = co[f] * counts[j];
                else
                    memcpy(cn + f0, co + f0, (f1 - f0) * sizeof *cn);
            }
            for (size_t i = 0; i < batch; i++) {
                if (i + 2 < batch) __builtin_prefetch(P[mb[i + 2]] + f0);
                float *cn = Cnew + (size_t)lab[i] * d;
                const float *x = P[mb[i]];
                for (size_t f = f0; f < f1; f++) cn[f] += x[f];
            }
#pragma omp barrier
#pragma omp single
            for (int j = 0; j < k; j++)
                if (wsum[j] > 0) counts[j] += wsum[j];
            for (int j = 0; j < k; j++) {
                if (!(wsum[j] > 0)) continue;
                float *cn = Cnew + (size_t)j * d;
                const float alpha = 1.0f / counts[j];
                for (size_t f = f0; f < f1; f++) cn[f] *= alpha;
            }
        }

        if (reassign && p.reassignment_ratio > 0) {
            float mx = counts[0];
            for (int j = 1; j < k; j++) mx = counts[j] > mx ? counts[j] : mx;
            size_t nre = 0;
            for (int j = 0; j < k; j++) {
                to_reassign[j] = (double)counts[j] < p.reassignment_ratio * (double)mx;
                nre += (size_t)to_reassign[j];
            }
            if ((double)nre > 0.5 * (double)batch) {
                argsort_counts(counts, k, order);
                for (int j = (int)(0.5 * (double)batch); j < k; j++) to_reassign[order[j]] = 0;
                nre = 0;
                for (int j = 0; j < k; j++) nre += (size_t)to_reassign[j];
            }
            if (nre) {
                cm_rs_choice_noreplace(rng, batch, nre, perm, pick);
                size_t q = 0;
                for (int j = 0; j < k; j++)
                    if (to_reassign[j]) memcpy(Cnew + (size_t)j * d, P[mb[pick[q++]]], d * sizeof *Cnew);
                float mn = INFINITY;
                for (int j = 0; j < k; j++)
                    if (!to_reassign[j] && counts[j] < mn) mn = counts[j];
                for (int j = 0; j < k; j++)
                    if (to_reassign[j]) counts[j] = mn;
            }
        }

        double shift = 0.0;
        if (tol > 0.0)
            for (size_t i = 0; i < kd; i++) shift += ((double)Cnew[i] - C[i]) * ((double)Cnew[i] - C[i]);
        float *tmp = C; C = Cnew; Cnew = tmp;

        /* _mini_batch_convergence */
        batch_inertia /= (double)batch;
        if (step == 0) continue;   /* the first inertia comes from the init */
        if (!have_ewa) {
            ewa = batch_inertia;
            have_ewa = 1;
        } else {
            double a = (double)batch * 2.0 / ((double)n + 1.0);
            if (a > 1.0) a = 1.0;
            ewa = ewa * (1.0 - a) + batch_inertia * a;
        }
        if (tol > 0.0 && shift <= tol) { step++; break; }
        if (!have_min || ewa < ewa_min) {
            no_improvement = 0;
            ewa_min = ewa;
            have_min = 1;
        } else {
            no_improvement++;
        }
        if (p.max_no_improvement > 0 && no_improvement >= p.max_no_improvement) { step++; break; }
    }
    double inertia = assign(&c, NULL, n, C, labels, info != NULL);
    if (centers) memcpy(centers, C, kd * sizeof *C);
    if (info) {
        info->n_steps = (int)step;
        info->n_iter = (int)((step * batch + n - 1) / n);
        info->inertia = inertia;
    }
done:
    free(C);
    free(Cnew);
    free(Cbest); free(counts); free(valid); free(sub); free(mb); free(perm); free(pick); free(lab); free(order);
    free(to_reassign); free(wsum); free(c.cnorm); free(c.dist);
    return rc;
}
