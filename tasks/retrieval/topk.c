/* topk.c: exact top-k by tiled single-threaded sgemm into per-query candidate buffers (see topk.h). */
#include "tasks/retrieval/topk.h"
#include "cmteb/status.h"
#include "cmteb/strmap.h"
#include "cmteb/util.h"

#include <cblas.h>
#ifdef __AVX__
#include <immintrin.h>
#endif
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#ifndef CM_TOPK_SELECT_ROUNDS
#define CM_TOPK_SELECT_ROUNDS 64   /* quickselect rounds before heapsort takes over (a test lowers it) */
#endif

static inline const char *doc_id(const cm_topk_heaps *h, uint32_t d) { return h->pool + h->off[d]; }

/* (score a, id a) < (score b, id b) as Python compares the tuples. */
static inline int worse(const cm_topk_heaps *h, float sa, uint32_t da, float sb, uint32_t db) {
    if (sa != sb) return sa < sb;
    return strcmp(doc_id(h, da), doc_id(h, db)) < 0;
}

void cm_topk_offer(const cm_topk_heaps *h, size_t q, float score, uint32_t doc) {
    const size_t k = h->k;
    float *hs = h->score + q * h->cap;
    uint32_t *hd = h->doc + q * h->cap;
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

/* ---- buffer mode ------------------------------------------------------------- */

/* (score a, id a) ranks above (score b, id b): the better score, or the larger id at equal scores. */
static inline int better(const cm_topk_heaps *h, float sa, uint32_t da, float sb, uint32_t db) {
    if (sa != sb) return sa > sb;
    return strcmp(doc_id(h, da), doc_id(h, db)) > 0;
}

static inline void swap_hit(float *s, uint32_t *d, size_t i, size_t j) {
    float ts = s[i];
    s[i] = s[j];
    s[j] = ts;
    uint32_t td = d[i];
    d[i] = d[j];
    d[j] = td;
}

/* Sorts s/d[lo, hi) best first by insertion (select_best's short ranges). */
static void sort_range(const cm_topk_heaps *h, float *s, uint32_t *d, size_t lo, size_t hi) {
    for (size_t i = lo + 1; i < hi; i++) {
        float xs = s[i];
        uint32_t xd = d[i];
        size_t j = i;
        for (; j > lo && better(h, xs, xd, s[j - 1], d[j - 1]); j--) {
            s[j] = s[j - 1];
            d[j] = d[j - 1];
        }
        s[j] = xs;
        d[j] = xd;
    }
}

/* Heapsort of s/d[lo, hi), best first: the O(m log m) bound select_best falls back on. */
static void heap_sort_range(const cm_topk_heaps *h, float *s, uint32_t *d, size_t lo, size_t hi) {
    float *hs = s + lo;
    uint32_t *hd = d + lo;
    size_t m = hi - lo;
    for (size_t end = m, top = m / 2;;) {   /* a min-heap (worst at the root), then roots moved to the back */
        if (top > 0) {
            top--;
        } else if (end > 1) {
            end--;
            swap_hit(hs, hd, 0, end);
        } else {
            break;
        }
        size_t i = top;
        for (;;) {
            size_t l = 2 * i + 1, r = l + 1, w = i;
            if (l < end && better(h, hs[w], hd[w], hs[l], hd[l])) w = l;
            if (r < end && better(h, hs[w], hd[w], hs[r], hd[r])) w = r;
            if (w == i) break;
            swap_hit(hs, hd, i, w);
            i = w;
        }
    }
}

/* Rearranges s/d[0..n) (n > k >= 1) so that [0, k) holds the k best, in no
 * order, with the worst of them at k - 1: quickselect with a median-of-three
 * pivot and Hoare's partition; a range of 16 or fewer is sorted, and so is
 * what is left after CM_TOPK_SELECT_ROUNDS rounds (an adversarial order:
 * heapsort bounds it). */
static void select_best(const cm_topk_heaps *h, float *s, uint32_t *d, size_t n, size_t k) {
    size_t lo = 0, hi = n;   /* the k-th best (index k - 1) lies in [lo, hi) */
    for (int round = 0; hi - lo > 16; round++) {
        if (round == CM_TOPK_SELECT_ROUNDS) {
            heap_sort_range(h, s, d, lo, hi);
            return;
        }
        size_t mid = lo + (hi - 1 - lo) / 2;
        if (better(h, s[mid], d[mid], s[lo], d[lo])) swap_hit(s, d, mid, lo);
        if (better(h, s[hi - 1], d[hi - 1], s[lo], d[lo])) swap_hit(s, d, hi - 1, lo);
        if (better(h, s[hi - 1], d[hi - 1], s[mid], d[mid])) swap_hit(s, d, hi - 1, mid);
        const float ps = s[mid];   /* [lo] >= pivot >= [hi - 1] */
        const uint32_t pd = d[mid];
        size_t i = lo, j = hi - 1;
        for (;;) {   /* Hoare: [lo, j] not below the pivot, [j + 1, hi) not above it, both non-empty */
            while (better(h, s[i], d[i], ps, pd)) i++;
            while (better(h, ps, pd, s[j], d[j])) j--;
            if (i >= j) break;
            swap_hit(s, d, i, j);
            i++;
            j--;
        }
        if (k - 1 <= j) hi = j + 1;
        else lo = j + 1;
    }
    sort_range(h, s, d, lo, hi);
}

size_t cm_topk_cap(size_t k) { return k + (k > 256 ? k : 256); }

/* Cuts query q's buffer to its k best and sets its threshold once k are held. */
static void cut(const cm_topk_heaps *h, size_t q) {
    float *s = h->score + q * h->cap;
    uint32_t *d = h->doc + q * h->cap;
    if (h->n[q] > h->k) {
        select_best(h, s, d, h->n[q], h->k);
        h->n[q] = h->k;
    }
    if (h->n[q] == h->k) h->thr[q] = s[h->k - 1];
}

void cm_topk_cut(const cm_topk_heaps *h, int threads) {
    int nt = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for num_threads(nt) schedule(dynamic, 16) if (h->nq * h->k >= 65536)
    for (size_t q = 0; q < h->nq; q++) cut(h, q);
}

/* Appends one row of scores (documents base .. base + n) to query q's buffer:
 * a score below the threshold cannot enter, so it is skipped (16 at a time
 * where none of them can); an equal score goes in and the cut decides by id.
 * self[0..n_self): the documents of this call that carry the query's own id. */
static void scan_row(const cm_topk_heaps *h, size_t q, const float *row, size_t n, uint32_t base,
                     const uint32_t *self, size_t n_self) {
    float *s = h->score + q * h->cap;
    uint32_t *d = h->doc + q * h->cap;
    size_t m = h->n[q];
    float thr = h->thr[q];
    for (size_t j = 0; j < n; j++) {
        if ((j & 15) == 0 && j + 16 <= n && !any_at_least(row + j, thr)) { j += 15; continue; }
        if (!(row[j] >= thr)) continue;   /* also drops NaN */
        uint32_t doc = base + (uint32_t)j;
        size_t e = 0;
        while (e < n_self && self[e] != doc) e++;
        if (e < n_self) continue;
        s[m] = row[j];
        d[m] = doc;
        if (++m == h->cap) {
            h->n[q] = m;
            cut(h, q);
            m = h->n[q];
            thr = h->thr[q];
        }
    }
    h->n[q] = m;
}

/* skip_self: the documents base .. base + nd - 1 whose id is a query's id, by
 * query: query q's are docs[at[q] .. at[q + 1]) (at: nq + 1 entries). A map of
 * the query ids is probed once per document, instead of a strcmp per hit. */
typedef struct {
    size_t   *at;
    uint32_t *docs;
} self_hits;

static int find_self(const cm_topk_heaps *h, uint32_t base, size_t nd, self_hits *out) {
    out->at = cm_calloc(h->nq + 1, sizeof *out->at);
    out->docs = NULL;
    size_t *next = cm_malloc(h->nq * sizeof *next);   /* queries sharing an id: a chain, SIZE_MAX ends it */
    uint32_t *pair_q = NULL, *pair_d = NULL;
    size_t n_pairs = 0, cap_pairs = 0;
    cm_strmap *map = NULL;
    cm_strmap_params mp = cm_strmap_default_params();
    mp.expected = h->nq;
    int rc = !out->at || !next ? CM_ERR_NOMEM : cm_strmap_init(&map, &mp);
    for (size_t q = 0; q < h->nq && rc == CM_OK; q++) {
        uint64_t head = q;
        int r = cm_strmap_insertn(map, h->qids[q], strlen(h->qids[q]), &head);
        if (r < 0) rc = r;
        else if (r == 0) { /* a query id seen before: q becomes the chain's head */
            next[q] = (size_t)head;
            r = cm_strmap_put(map, h->qids[q], q);
            if (r < 0) rc = r;
        } else {
            next[q] = SIZE_MAX;
        }
    }
    for (size_t j = 0; j < nd && rc == CM_OK; j++) {
        uint64_t q;
        if (!cm_strmap_get(map, doc_id(h, base + (uint32_t)j), &q)) continue;
        for (size_t c = (size_t)q; c != SIZE_MAX && rc == CM_OK; c = next[c]) {
            if (n_pairs == cap_pairs) {
                size_t nc = cap_pairs ? 2 * cap_pairs : 64;
                uint32_t *a = cm_realloc(pair_q, nc * sizeof *a);
                if (a) pair_q = a;
                uint32_t *b = a ? cm_realloc(pair_d, nc * sizeof *b) : NULL;
                if (b) pair_d = b;
                if (!a || !b) { rc = CM_ERR_NOMEM; break; }
                cap_pairs = nc;
            }
            pair_q[n_pairs] = (uint32_t)c;
            pair_d[n_pairs] = base + (uint32_t)j;
            n_pairs++;
            out->at[c + 1]++;
        }
    }
    if (rc == CM_OK && !(out->docs = cm_malloc((n_pairs ? n_pairs : 1) * sizeof *out->docs))) rc = CM_ERR_NOMEM;
    if (rc == CM_OK) {
        for (size_t q = 0; q < h->nq; q++) out->at[q + 1] += out->at[q];
        for (size_t q = 0; q < h->nq; q++) next[q] = out->at[q];   /* fill positions */
        for (size_t i = 0; i < n_pairs; i++) out->docs[next[pair_q[i]]++] = pair_d[i];
    }
    cm_strmap_free(map);
    free(next);
    free(pair_q);
    free(pair_d);
    if (rc != CM_OK) {
        free(out->at);
        free(out->docs);
        out->at = NULL;
        out->docs = NULL;
    }
    return rc;
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
 * from query 0, and each call is single-threaded.
 *
 * Thread i owns query tiles i, i + nt, ... for the whole call (no barrier per
 * document tile: a query's buffer is only ever touched by its owner); the
 * threads walk the document tiles in the same order, so a tile read by one is
 * usually still in the shared cache for the others. */
int cm_topk_ip(const cm_topk_heaps *h, const float *Q, const float *D, size_t nd, size_t dim, uint32_t base,
               size_t origin, int threads) {
    if (h->nq == 0 || nd == 0 || h->k == 0) return CM_OK;
    int nt = threads > 0 ? threads : omp_get_max_threads();
    size_t n_qt = (h->nq + CM_TOPK_QTILE - 1) / CM_TOPK_QTILE;
    if ((size_t)nt > n_qt) nt = (int)n_qt;
    /* tile coordinates are global numbers (base + origin ...); hit numbers subtract origin again */
    const size_t first = (size_t)base + origin, end = first + nd;
    const size_t g_first = first / CM_TOPK_DTILE * CM_TOPK_DTILE, g_last = (end - 1) / CM_TOPK_DTILE * CM_TOPK_DTILE;
    self_hits self = {NULL, NULL};
    if (h->skip_self) CM_TRY(find_self(h, base, nd, &self));
    float *S = cm_malloc((size_t)nt * CM_TOPK_QTILE * CM_TOPK_DTILE * sizeof *S);
    float *edge = cm_calloc((size_t)2 * CM_TOPK_DTILE * dim, sizeof *edge);   /* the first and the last tile */
    if (!S || !edge) {
        free(S);
        free(edge);
        free(self.at);
        free(self.docs);
        return CM_ERR_NOMEM;
    }
    for (int e = 0; e < 2; e++) {   /* cut tiles (at most these two) copied to full width */
        size_t g0 = e ? g_last : g_first;
        size_t lo = g0 > first ? g0 : first, hi = g0 + CM_TOPK_DTILE < end ? g0 + CM_TOPK_DTILE : end;
        if (lo != g0 || hi != g0 + CM_TOPK_DTILE)
            memcpy(edge + ((size_t)e * CM_TOPK_DTILE + lo - g0) * dim, D + (lo - first) * dim,
               (hi - lo) * dim * sizeof *edge);
    }
    int blas_threads = openblas_get_num_threads();
    if (blas_threads != 1) openblas_set_num_threads(1);
#pragma omp parallel num_threads(nt)
    {
        const size_t tid = (size_t)omp_get_thread_num();
        float *St = S + tid * CM_TOPK_QTILE * CM_TOPK_DTILE;
        /* document tiles outside: a tile stays in cache while every query tile uses it */
        for (size_t g0 = g_first; g0 < end; g0 += CM_TOPK_DTILE) {
            size_t lo = g0 > first ? g0 : first, hi = g0 + CM_TOPK_DTILE < end ? g0 + CM_TOPK_DTILE : end;
            const float *T = D + (g0 - first) * dim;
            size_t col = 0;
            if (lo != g0 || hi != g0 + CM_TOPK_DTILE) {   /* cut tile: its full-width copy */
                T = edge + (g0 == g_first ? 0 : (size_t)CM_TOPK_DTILE * dim);
                col = lo - g0;
            }
            for (size_t t = tid; t < n_qt; t += (size_t)nt) {
                size_t q0 = t * CM_TOPK_QTILE, qn = h->nq - q0 < CM_TOPK_QTILE ? h->nq - q0 : CM_TOPK_QTILE;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)qn, CM_TOPK_DTILE, (blasint)dim, 1.0f,
                            Q + q0 * dim, (blasint)dim, T, (blasint)dim, 0.0f, St, CM_TOPK_DTILE);
                for (size_t i = 0; i < qn; i++) {
                    const size_t q = q0 + i;
                    const uint32_t *sd = self.at ? self.docs + self.at[q] : NULL;
                    const size_t ns = self.at ? self.at[q + 1] - self.at[q] : 0;
                    scan_row(h, q, St + i * CM_TOPK_DTILE + col, hi - lo, (uint32_t)(lo - origin), sd, ns);
                }
            }
        }
    }
    if (blas_threads != 1) openblas_set_num_threads(blas_threads);
    free(S);
    free(edge);
    free(self.at);
    free(self.docs);
    return CM_OK;
}
