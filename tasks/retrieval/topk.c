/* topk.c: exact top-k by tiled single-threaded sgemm and a per-query heap threshold (see topk.h). */
#include "tasks/retrieval/topk.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <cblas.h>
#ifdef __AVX__
#include <immintrin.h>
#endif
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static inline const char *doc_id(const cm_topk_heaps *h, uint32_t d) { return h->pool + h->off[d]; }

/* (score a, id a) < (score b, id b) as Python compares the tuples. */
static inline int worse(const cm_topk_heaps *h, float sa, uint32_t da, float sb, uint32_t db) {
    if (sa != sb) return sa < sb;
    return strcmp(doc_id(h, da), doc_id(h, db)) < 0;
}

void cm_topk_offer(const cm_topk_heaps *h, size_t q, float score, uint32_t doc) {
    const size_t k = h->k;
    float *hs = h->score + q * k;
    uint32_t *hd = h->doc + q * k;
    size_t n = h->n[q];
    if (n < k) { /* push, sift up */
        size_t i = n;
        while (i > 0) {
            size_t parent = (i - 1) / 2;
            if (!worse(h, score, doc, hs[parent], hd[parent])) break;
            hs[i] = hs[parent];
            hd[i] = hd[parent];
            i = parent;
        }
        hs[i] = score;
        hd[i] = doc;
        h->n[q] = n + 1;
        return;
    }
    if (!worse(h, hs[0], hd[0], score, doc)) return; /* not better than the worst kept */
    size_t i = 0;                                    /* replace the root, sift down */
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        float ms = score;
        uint32_t md = doc;
        if (l < n && worse(h, hs[l], hd[l], ms, md)) { m = l; ms = hs[l]; md = hd[l]; }
        if (r < n && worse(h, hs[r], hd[r], ms, md)) { m = r; }
        if (m == i) break;
        hs[i] = hs[m];
        hd[i] = hd[m];
        i = m;
    }
    hs[i] = score;
    hd[i] = doc;
}

/* Whether any of x[0..16) is >= thr (NaN never is). */
static inline int any_at_least(const float *x, float thr) {
#ifdef __AVX__
    const __m256 t = _mm256_set1_ps(thr);
    __m256 m = _mm256_or_ps(_mm256_cmp_ps(_mm256_loadu_ps(x), t, _CMP_GE_OQ),
                            _mm256_cmp_ps(_mm256_loadu_ps(x + 8), t, _CMP_GE_OQ));
    return _mm256_movemask_ps(m) != 0;
#else
    int any = 0;
    for (int i = 0; i < 16; i++) any |= x[i] >= thr;
    return any;
#endif
}

/* Merges one row of scores (documents base .. base + n) into query q's heap:
 * a score below the worst kept one (full heap) cannot enter, so it is skipped
 * without touching the heap; equal scores go on to the id comparison. */
static void scan_row(const cm_topk_heaps *h, size_t q, const float *row, size_t n, uint32_t base) {
    const size_t k = h->k;
    const float *root = h->score + q * k;
    float thr = h->n[q] == k ? root[0] : -INFINITY;
    for (size_t j = 0; j < n; j++) {
        if ((j & 15) == 0 && j + 16 <= n && !any_at_least(row + j, thr)) { j += 15; continue; }
        if (!(row[j] >= thr)) continue;   /* also drops NaN */
        uint32_t doc = base + (uint32_t)j;
        if (h->skip_self && !strcmp(doc_id(h, doc), h->qids[q])) continue;
        cm_topk_offer(h, q, row[j], doc);
        if (h->n[q] == k) thr = root[0];
    }
}

size_t cm_topk_scratch_bytes(int threads) {
    size_t t = threads > 0 ? (size_t)threads : (size_t)omp_get_max_threads();
    return t * CM_TOPK_QTILE * CM_TOPK_DTILE * sizeof(float);   /* + one CM_TOPK_DTILE x dim edge tile */
}

/* OpenBLAS's sgemm rounds an element differently depending on the call's
 * shape and where the element sits in it, so every score is computed in the
 * same call shape whatever the chunking, the adds and the thread count:
 * document tiles are CM_TOPK_DTILE wide and aligned to global document
 * numbers (a tile cut by a chunk boundary is computed at full width from a
 * copy, its documents at their usual columns), query tiles are CM_TOPK_QTILE
 * from query 0, and each call is single-threaded. */
int cm_topk_ip(const cm_topk_heaps *h, const float *Q, const float *D, size_t nd, size_t dim, uint32_t base,
               size_t origin, int threads) {
    if (h->nq == 0 || nd == 0 || h->k == 0) return CM_OK;
    int nt = threads > 0 ? threads : omp_get_max_threads();
    size_t n_qt = (h->nq + CM_TOPK_QTILE - 1) / CM_TOPK_QTILE;
    if ((size_t)nt > n_qt) nt = (int)n_qt;
    float *S = cm_malloc((size_t)nt * CM_TOPK_QTILE * CM_TOPK_DTILE * sizeof *S);
    float *edge = cm_calloc((size_t)CM_TOPK_DTILE * dim, sizeof *edge);
    if (!S || !edge) {
        free(S);
        free(edge);
        return CM_ERR_NOMEM;
    }
    int blas_threads = openblas_get_num_threads();
    if (blas_threads != 1) openblas_set_num_threads(1);
    /* tile coordinates are global numbers (base + origin ...); heap numbers subtract origin again */
    const size_t first = (size_t)base + origin, end = first + nd;
#pragma omp parallel num_threads(nt)
    {
        float *St = S + (size_t)omp_get_thread_num() * CM_TOPK_QTILE * CM_TOPK_DTILE;
        /* document tiles outside: a tile stays in cache while every query tile uses it */
        for (size_t g0 = first / CM_TOPK_DTILE * CM_TOPK_DTILE; g0 < end; g0 += CM_TOPK_DTILE) {
            size_t lo = g0 > first ? g0 : first, hi = g0 + CM_TOPK_DTILE < end ? g0 + CM_TOPK_DTILE : end;
            const float *T = D + (lo - first) * dim;
            if (lo != g0 || hi != g0 + CM_TOPK_DTILE) {   /* cut tile: full width from a copy */
#pragma omp single
                memcpy(edge + (lo - g0) * dim, D + (lo - first) * dim, (hi - lo) * dim * sizeof *edge);
                T = edge;
            }
            const size_t col = T == edge ? lo - g0 : 0, ld_tile = CM_TOPK_DTILE;
#pragma omp for schedule(dynamic, 1)
            for (size_t t = 0; t < n_qt; t++) {
                size_t q0 = t * CM_TOPK_QTILE, qn = h->nq - q0 < CM_TOPK_QTILE ? h->nq - q0 : CM_TOPK_QTILE;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)qn, (blasint)ld_tile, (blasint)dim,
                            1.0f, Q + q0 * dim, (blasint)dim, T == edge ? edge : D + (g0 - first) * dim,
                            (blasint)dim, 0.0f, St, (blasint)ld_tile);
                for (size_t i = 0; i < qn; i++)
                    scan_row(h, q0 + i, St + i * ld_tile + col, hi - lo, (uint32_t)(lo - origin));
            }
        }
    }
    if (blas_threads != 1) openblas_set_num_threads(blas_threads);
    free(S);
    free(edge);
    return CM_OK;
}
