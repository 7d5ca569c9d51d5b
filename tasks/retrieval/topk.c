/* topk.c: exact top-k by a register-blocked inner-product kernel into per-query candidate buffers (see topk.h). */
#include "tasks/retrieval/topk.h"
#include "cmteb/status.h"
#include "cmteb/strmap.h"
#include "cmteb/util.h"

#if defined(__x86_64__) || defined(__i386__)
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
static void select_best_qs(const cm_topk_heaps *h, float *s, uint32_t *d, size_t n, size_t k) {
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

#ifndef CM_TOPK_RADIX_MIN
#define CM_TOPK_RADIX_MIN ((size_t)256)  /* buffers below this go to the quickselect (a test lowers it) */
#endif
#define BUCKET_MAX 64           /* the k-th best's bucket is sorted when it holds at most this many */
#ifndef CM_TOPK_PATH
#define CM_TOPK_PATH(p) ((void)0)   /* a test counts the paths: 0 small, 1 one score, 2 tied bucket, 3 radix */
#endif

/* select_best's contract (see select_best_qs) by radix selection on cm_topk_key: the keys' range fixes the bits
 * all of them share; 8-bit digits below those are counted, each pass among the entries whose higher digits
 * equal the k-th best's, until the k-th best's bucket holds <= BUCKET_MAX entries. Then one pass moves the
 * entries of better buckets to the front (in their order) and the bucket's to a side buffer, whose entries are
 * ranked by (score, id) to fill [.., k). Buckets split by score alone, so equal scores share a bucket and ties
 * are decided by id exactly as in the quickselect. Falls back on select_best_qs below CM_TOPK_RADIX_MIN and when
 * more than BUCKET_MAX entries share the k-th best's key (ties). Entries past k are left in no defined state;
 * cut() drops them. */
static void select_best(const cm_topk_heaps *h, float *s, uint32_t *d, size_t n, size_t k) {
    uint32_t kbuf[4096];   /* the keys, computed once: a buffer of k = 1000 (cap 2000) fits */
    uint32_t *key = n < CM_TOPK_RADIX_MIN ? NULL : n <= sizeof kbuf / sizeof *kbuf ? kbuf : malloc(n * sizeof *key);
    if (!key) {   /* a small buffer (or no memory for the keys) */
        CM_TOPK_PATH(0);
        select_best_qs(h, s, d, n, k);
        return;
    }
    uint32_t kmin = UINT32_MAX, kmax = 0;
    for (size_t i = 0; i < n; i++) {   /* vectorised: no branch */
        const uint32_t x = cm_topk_key(s[i]);
        key[i] = x;
        kmin = x < kmin ? x : kmin;
        kmax = x > kmax ? x : kmax;
    }
    size_t before = 0, in = n;   /* entries in better buckets; entries in the k-th best's bucket */
    uint32_t pmask = 0, prefix = 0;   /* the k-th best's key bits found so far (under pmask) */
    if (kmin != kmax) {
        int top = 31 - __builtin_clz(kmin ^ kmax);   /* the highest bit where keys differ */
        pmask = top == 31 ? 0 : ~((2u << top) - 1);
        prefix = kmin & pmask;
        while (in > BUCKET_MAX && top >= 0) {
            const int shift = top >= 7 ? top - 7 : 0;
            uint32_t cnt[4][256];   /* four interleaved histograms: no store-to-load chain on a popular digit */
            memset(cnt, 0, sizeof cnt);
            size_t i = 0;
            for (; i + 4 <= n; i += 4) {
                const uint32_t x0 = key[i], x1 = key[i + 1], x2 = key[i + 2], x3 = key[i + 3];
                cnt[0][(x0 >> shift) & 255] += (x0 & pmask) == prefix;
                cnt[1][(x1 >> shift) & 255] += (x1 & pmask) == prefix;
                cnt[2][(x2 >> shift) & 255] += (x2 & pmask) == prefix;
                cnt[3][(x3 >> shift) & 255] += (x3 & pmask) == prefix;
            }
            for (; i < n; i++) cnt[0][(key[i] >> shift) & 255] += (key[i] & pmask) == prefix;
            const uint32_t width = (uint32_t)(top - shift + 1);   /* digit bits: 8, or fewer at the bottom */
            uint32_t v = 0;
            size_t c = cnt[0][0] + cnt[1][0] + cnt[2][0] + cnt[3][0];
            while (before + c < k) {
                before += c;
                v++;
                c = cnt[0][v] + cnt[1][v] + cnt[2][v] + cnt[3][v];
            }
            in = c;
            prefix |= v << shift;
            pmask |= ((1u << width) - 1) << shift;
            top = shift - 1;
        }
    }
    if (in > BUCKET_MAX) {   /* more than BUCKET_MAX entries share the k-th best's score */
        CM_TOPK_PATH(kmin == kmax ? 1 : 2);
        if (key != kbuf) free(key);
        select_best_qs(h, s, d, n, k);
        return;
    }
    CM_TOPK_PATH(3);
    float ms[BUCKET_MAX + 1];   /* + 1: entries after the bucket's last are written past it, then ignored */
    uint32_t md[BUCKET_MAX + 1];
    size_t wa = 0, wm = 0;
    for (size_t i = 0; i < n; i++) {   /* wa <= i: writing [wa] never clobbers an entry not yet read */
        const float x = s[i];
        const uint32_t y = d[i];
        s[wa] = x;
        d[wa] = y;
        ms[wm] = x;
        md[wm] = y;
        wa += key[i] < prefix;
        wm += (key[i] & pmask) == prefix;
    }
    if (key != kbuf) free(key);
    CM_ASSERT(wa == before && wm == in && before < k && k <= before + in);
    sort_range(h, ms, md, 0, in);   /* best first */
    for (size_t i = 0; wa < k; i++, wa++) {
        s[wa] = ms[i];
        d[wa] = md[i];
    }
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

/* The query ids for skip_self: id -> the last query with it, and the chain back through the earlier ones. */
struct cm_topk_qids {
    cm_strmap *map;
    size_t    *prev;   /* (nq) the previous query with the same id, SIZE_MAX at the first */
};

void cm_topk_qids_free(cm_topk_qids *m) {
    if (!m) return;
    cm_strmap_free(m->map);
    free(m->prev);
    free(m);
}

int cm_topk_qids_init(cm_topk_qids **out, const char *const *qids, size_t nq) {
    *out = NULL;
    cm_topk_qids *m = cm_calloc(1, sizeof *m);
    if (!m || !(m->prev = cm_malloc((nq ? nq : 1) * sizeof *m->prev))) {
        cm_topk_qids_free(m);
        return CM_ERR_NOMEM;
    }
    cm_strmap_params mp = cm_strmap_default_params();
    mp.expected = nq;
    int rc = cm_strmap_init(&m->map, &mp);
    for (size_t q = 0; q < nq && rc == CM_OK; q++) {
        uint64_t head = q;
        int r = cm_strmap_insertn(m->map, qids[q], strlen(qids[q]), &head);
        m->prev[q] = r == 0 ? (size_t)head : SIZE_MAX;
        if (r == 0) r = cm_strmap_put(m->map, qids[q], q);   /* an id seen before: q becomes the chain's head */
        if (r < 0) rc = r;
    }
    if (rc) {
        cm_topk_qids_free(m);
        return rc;
    }
    *out = m;
    return CM_OK;
}

/* skip_self: the documents base .. base + nd - 1 whose id is a query's id, by
 * query: query q's are docs[at[q] .. at[q + 1]) (at: nq + 1 entries). The map
 * of the query ids is probed once per document, instead of a strcmp per hit. */
typedef struct {
    size_t   *at;
    uint32_t *docs;
} self_hits;

static int find_self(const cm_topk_heaps *h, uint32_t base, size_t nd, self_hits *out) {
    out->at = cm_calloc(h->nq + 1, sizeof *out->at);
    out->docs = NULL;
    size_t *fill = cm_malloc((h->nq ? h->nq : 1) * sizeof *fill);
    uint32_t *pair_q = NULL, *pair_d = NULL;
    size_t n_pairs = 0, cap_pairs = 0;
    int rc = !out->at || !fill ? CM_ERR_NOMEM : CM_OK;
    for (size_t j = 0; j < nd && rc == CM_OK; j++) {
        uint64_t q;
        if (!cm_strmap_get(h->qids_map->map, doc_id(h, base + (uint32_t)j), &q)) continue;
        for (size_t c = (size_t)q; c != SIZE_MAX && rc == CM_OK; c = h->qids_map->prev[c]) {
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
        for (size_t q = 0; q < h->nq; q++) fill[q] = out->at[q];
        for (size_t i = 0; i < n_pairs; i++) out->docs[fill[pair_q[i]]++] = pair_d[i];
    }
    free(fill);
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

/* ---- the scoring kernel -------------------------------------------------------
 * Documents are stored in panels of CM_TOPK_PANEL: panel p holds documents
 * 16p .. 16p + 15 as P[p][k][lane] (dim x 16 floats), so one 16-wide row of
 * the panel is two AVX registers. A block of 6 queries against one panel is
 * 96 scores in 12 registers; each is one fused multiply-add chain over
 * k = 0 .. dim - 1 in order, so a score's bits do not depend on where its
 * query and document sit, on the chunking, the slicing or the thread count;
 * the portable kernel (fmaf in the same order) gives the same bits. */
#define QB 6   /* queries per block */

size_t cm_topk_panel_floats(size_t n, size_t dim) {
    return (n + CM_TOPK_PANEL - 1) / CM_TOPK_PANEL * CM_TOPK_PANEL * dim;
}

void cm_topk_pack(float *P, size_t at, const float *x, size_t n, size_t dim) {
    for (size_t i = 0; i < n; i++) {
        const size_t pos = at + i, lane = pos % CM_TOPK_PANEL;
        float *dst = P + (pos - lane) * dim + lane;
        const float *src = x + i * dim;
        for (size_t k = 0; k < dim; k++) dst[k * CM_TOPK_PANEL] = src[k];
    }
}

/* C[r][j] = q[r] . panel column j (r < QB, j < 16); mask[r] bit j: C[r][j] >= thr[r] (NaN never). */
static void block_portable(const float *const *q, const float *P, size_t dim, const float *thr, float *C,
                           unsigned *mask) {
    for (int r = 0; r < QB; r++) {
        mask[r] = 0;
        for (int j = 0; j < CM_TOPK_PANEL; j++) {
            float acc = 0.0f;
            for (size_t k = 0; k < dim; k++) acc = fmaf(q[r][k], P[k * CM_TOPK_PANEL + j], acc);
            C[r * CM_TOPK_PANEL + j] = acc;
            if (acc >= thr[r]) mask[r] |= 1u << j;
        }
    }
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma"))) static void block_avx2(const float *const *q, const float *P, size_t dim,
                                                            const float *thr, float *C, unsigned *mask) {
    __m256 c[2 * QB];   /* row r: c[2r] lanes 0-7, c[2r + 1] lanes 8-15; kept in registers once unrolled */
    for (int i = 0; i < 2 * QB; i++) c[i] = _mm256_setzero_ps();
    for (size_t k = 0; k < dim; k++) {
        const __m256 b0 = _mm256_loadu_ps(P + k * CM_TOPK_PANEL), b1 = _mm256_loadu_ps(P + k * CM_TOPK_PANEL + 8);
#pragma GCC unroll 6
        for (int r = 0; r < QB; r++) {
            const __m256 x = _mm256_broadcast_ss(q[r] + k);
            c[2 * r] = _mm256_fmadd_ps(x, b0, c[2 * r]);
            c[2 * r + 1] = _mm256_fmadd_ps(x, b1, c[2 * r + 1]);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < QB; r++) {
        const __m256 t = _mm256_set1_ps(thr[r]);
        _mm256_storeu_ps(C + r * CM_TOPK_PANEL, c[2 * r]);
        _mm256_storeu_ps(C + r * CM_TOPK_PANEL + 8, c[2 * r + 1]);
        mask[r] = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(c[2 * r], t, _CMP_GE_OQ)) |
                  (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(c[2 * r + 1], t, _CMP_GE_OQ)) << 8;
    }
}
#endif

typedef void (*block_fn)(const float *const *, const float *, size_t, const float *, float *, unsigned *);

static block_fn pick_block(void) {
#if defined(__x86_64__) || defined(__i386__)
    if (!getenv("CMTEB_TOPK_PORTABLE") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return block_avx2;
#endif
    return block_portable;
}

/* Appends query q's hits among the 16 documents of one panel (mask: which reach the threshold) to its buffer. */
static void take_hits(const cm_topk_heaps *h, size_t q, const float *row, unsigned mask, uint32_t doc0,
                      const uint32_t *self, size_t n_self) {
    float *s = h->score + q * h->cap;
    uint32_t *d = h->doc + q * h->cap;
    size_t m = h->n[q];
    while (mask) {
        const int j = __builtin_ctz(mask);
        mask &= mask - 1;
        if (!(row[j] >= h->thr[q])) continue;   /* the threshold rose within this panel */
        const uint32_t doc = doc0 + (uint32_t)j;
        size_t e = 0;
        while (e < n_self && self[e] != doc) e++;
        if (e < n_self) continue;
        s[m] = row[j];
        d[m] = doc;
        if (++m == h->cap) {
            h->n[q] = m;
            cut(h, q);
            m = h->n[q];
        }
    }
    h->n[q] = m;
}

/* Query blocks walked over all panels before the next group: their vectors and the ends of their buffers stay
 * in a core's own cache (L2) while the panels stream by; with all of a thread's queries at once, each panel
 * pushed them out and every hit taken was a cache miss. */
#define GROUP_BYTES ((size_t)256 << 10)

/* Thread t owns query blocks [t n_qb / nt, (t + 1) n_qb / nt) for the whole call (a query's buffer is only
 * ever touched by its owner: no barrier) and walks them in groups of GROUP_BYTES of query vectors, each group
 * over all panels in order (a query still sees the documents in order: the same hits and cuts). */
int cm_topk_ip(const cm_topk_heaps *h, const float *Q, const float *P, size_t nd, size_t dim, uint32_t base,
               int threads) {
    if (h->nq == 0 || nd == 0 || h->k == 0) return CM_OK;
    const block_fn block = pick_block();
    const size_t n_qb = (h->nq + QB - 1) / QB, n_panels = (nd + CM_TOPK_PANEL - 1) / CM_TOPK_PANEL;
    int nt = threads > 0 ? threads : omp_get_max_threads();
    if ((size_t)nt > n_qb) nt = (int)n_qb;
    size_t group = GROUP_BYTES / (QB * dim * sizeof(float));   /* query blocks per group, at least one */
    if (group == 0) group = 1;
    self_hits self = {NULL, NULL};
    CM_ASSERT(!h->skip_self || h->qids_map);
    if (h->skip_self) CM_TRY(find_self(h, base, nd, &self));
#pragma omp parallel num_threads(nt)
    {
        const size_t t = (size_t)omp_get_thread_num(), b0 = t * n_qb / (size_t)nt,
                     b1 = (t + 1) * n_qb / (size_t)nt;
        float C[QB * CM_TOPK_PANEL], thr[QB];
        unsigned mask[QB];
        for (size_t g0 = b0; g0 < b1; g0 += group)
        for (size_t p = 0; p < n_panels; p++) {
            const float *panel = P + p * CM_TOPK_PANEL * dim;
            const size_t lanes = nd - p * CM_TOPK_PANEL < CM_TOPK_PANEL ? nd - p * CM_TOPK_PANEL : CM_TOPK_PANEL;
            const unsigned live = lanes == CM_TOPK_PANEL ? 0xFFFFu : (1u << lanes) - 1;   /* past nd: padding */
            const uint32_t doc0 = base + (uint32_t)(p * CM_TOPK_PANEL);
            const size_t g1 = b1 - g0 < group ? b1 : g0 + group;
            for (size_t qb = g0; qb < g1; qb++) {
                const size_t q0 = qb * QB, rows = h->nq - q0 < QB ? h->nq - q0 : QB;
                const float *qr[QB];
                for (size_t r = 0; r < QB; r++) {   /* a short last block repeats its first query */
                    qr[r] = Q + (q0 + (r < rows ? r : 0)) * dim;
                    thr[r] = r < rows ? h->thr[q0 + r] : INFINITY;
                }
                block(qr, panel, dim, thr, C, mask);
                for (size_t r = 0; r < rows; r++) {
                    if (!(mask[r] & live)) continue;
                    const size_t q = q0 + r;
                    const uint32_t *sd = self.at ? self.docs + self.at[q] : NULL;
                    const size_t ns = self.at ? self.at[q + 1] - self.at[q] : 0;
                    take_hits(h, q, C + r * CM_TOPK_PANEL, mask[r] & live, doc0, sd, ns);
                }
            }
        }
    }
    free(self.at);
    free(self.docs);
    return CM_OK;
}
