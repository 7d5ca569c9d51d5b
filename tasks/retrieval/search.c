/* search.c: chunked top-k inner-product search over FAISS with per-query bounded heaps (see search.h). */
#include "tasks/retrieval/search.h"
#include "tasks/retrieval/topk.h"
#include "cmteb/array.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <faiss/c_api/AutoTune_c.h>
#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/index_factory_c.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct cm_search {
    cm_search_params p;
    char   *index_desc;     /* "Flat" or the factory description (owned) */
    char   *index_params;   /* owned or NULL */
    int     exact;
    size_t  nq, dim, k;     /* k = top_k */
    float  *queries;        /* (nq, dim) */
    char  **qids;           /* (nq) */
    /* document ids: one pool of NUL-terminated strings, located by offset */
    char   *pool;
    size_t  pool_len, pool_cap;
    size_t *doc_off;        /* (n_docs) */
    size_t  n_docs, cap_docs;
    /* hit sets (topk.h): (nq, h_cap) each; buffers for topk.c's kernel, else min-heaps on (score, id) */
    size_t    h_cap;
    float    *h_score;
    uint32_t *h_doc;
    size_t   *h_n;          /* (nq) */
    float    *h_thr;        /* (nq) buffer mode's thresholds */
    cm_topk_qids *qids_map; /* buffer mode with skip_self: the query ids for topk.c */
    /* exact: the current chunk (FAISS IndexFlatIP with faiss_exact, else raw vectors for topk.c) */
    FaissIndex *chunk;
    float      *chunk_vecs; /* (topk_block(chunk_size), dim) packed in panels (topk.h) */
    size_t      chunk_first, chunk_n;
    /* approximate: one index, trained on the first chunk_size vectors */
    FaissIndex *index;
    float      *train_buf;  /* (train_n, dim) until trained */
    size_t      train_n;
    /* results */
    int          finished;
    const char **res_ids;   /* (nq, k) */
};

cm_search_params cm_search_default_params(void) {
    cm_search_params p;
    memset(&p, 0, sizeof p);
    p.top_k = 1000;
    p.chunk_size = 50000;
    p.query_block = 2048;
    p.index = NULL;
    p.index_params = NULL;
    p.skip_self = 1;
    p.faiss_exact = 0;
    return p;
}

static int is_exact(const char *desc) { return !desc || !*desc || !strcasecmp(desc, "Flat"); }

/* Documents topk.c scores at a time: a block that stays in the shared cache while every thread reads it
 * (its scores do not depend on the blocking), at most the chunk size. */
#define TOPK_BLOCK 8192
static size_t topk_block(size_t chunk) { return chunk < TOPK_BLOCK ? chunk : TOPK_BLOCK; }

size_t cm_search_mem_estimate(size_t nq, size_t dim, size_t n_docs, const cm_search_params *params) {
    cm_search_params p = params ? *params : cm_search_default_params();
    size_t k = p.top_k ? p.top_k : 1000;
    size_t chunk = p.chunk_size ? p.chunk_size : 50000;
    size_t qb = p.query_block ? p.query_block : 2048;
    if (qb > nq) qb = nq;
    size_t in_index = is_exact(p.index) ? (n_docs < chunk ? n_docs : chunk) : n_docs;
    size_t bytes = nq * dim * sizeof(float);                   /* query vectors */
    size_t cap = is_exact(p.index) && !p.faiss_exact ? cm_topk_cap(k) : k;
    bytes += nq * cap * (sizeof(float) + sizeof(uint32_t)) + nq * sizeof(float);   /* hit sets */
    bytes += nq * k * sizeof(char *);                          /* ordered results */
    if (!is_exact(p.index) || p.faiss_exact) {
        bytes += qb * (k + 1) * (sizeof(float) + sizeof(int64_t)); /* one FAISS result block */
        bytes += qb * 2 * (k + 1) * (sizeof(float) + sizeof(int64_t)); /* FAISS's top-k reservoirs (2k per query) */
        bytes += (qb < 4096 ? qb : 4096) * (in_index < 1024 ? in_index : 1024) * sizeof(float); /* BLAS tile */
    }
    if (is_exact(p.index) && !p.faiss_exact)                   /* one block of the chunk, packed in panels */
        bytes += cm_topk_panel_floats(topk_block(in_index), dim) * sizeof(float);
    else                                                       /* one chunk, or the whole index (upper bound) */
        bytes += in_index * dim * sizeof(float);
    if (!is_exact(p.index)) bytes += (n_docs < chunk ? n_docs : chunk) * dim * sizeof(float); /* training sample */
    bytes += n_docs * sizeof(size_t);                          /* id offsets */
    return bytes;
}

size_t cm_search_chunk_for_budget(size_t budget, size_t nq, size_t dim, size_t n_docs, const cm_search_params *p) {
    cm_search_params q = p ? *p : cm_search_default_params();
    size_t lo = 0, hi = n_docs ? n_docs : 1;   /* lo fits (0: nothing yet), find the largest that fits */
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        q.chunk_size = mid;
        if (cm_search_mem_estimate(nq, dim, n_docs, &q) <= budget) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

static int faiss_fail(int frc, const char *what) {
    const char *msg = faiss_get_last_error();
    return cm_error(CM_ERR_INTERNAL, "FAISS %s failed (%d): %s", what, frc, msg && *msg ? msg : "no message");
}

void cm_search_free(cm_search *s) {
    if (!s) return;
    free(s->index_desc);
    free(s->index_params);
    free(s->queries);
    if (s->qids)
        for (size_t i = 0; i < s->nq; i++) free(s->qids[i]);
    free(s->qids);
    free(s->pool);
    free(s->doc_off);
    free(s->h_score);
    free(s->h_doc);
    free(s->h_n);
    free(s->h_thr);
    cm_topk_qids_free(s->qids_map);
    if (s->chunk) faiss_Index_free(s->chunk);
    free(s->chunk_vecs);
    if (s->index) faiss_Index_free(s->index);
    free(s->train_buf);
    free(s->res_ids);
    free(s);
}

static int apply_params(cm_search *s, FaissIndex *idx) {
    if (!s->index_params || !*s->index_params) return CM_OK;
    FaissParameterSpace *ps = NULL;
    int frc = faiss_ParameterSpace_new(&ps);
    if (frc) return faiss_fail(frc, "ParameterSpace_new");
    frc = faiss_ParameterSpace_set_index_parameters(ps, idx, s->index_params);
    faiss_ParameterSpace_free(ps);
    if (frc)
        return cm_error(CM_ERR_ARG, "retrieval index parameters '%s' do not apply to index '%s': %s", s->index_params,
                        s->index_desc, faiss_get_last_error());
    return CM_OK;
}

int cm_search_init(cm_search **out, const float *queries, const char *const *query_ids, size_t nq, size_t dim,
                   const cm_search_params *params) {
    *out = NULL;
    cm_search *s = cm_calloc(1, sizeof *s);
    if (!s) return CM_ERR_NOMEM;
    s->p = params ? *params : cm_search_default_params();
    if (!s->p.top_k) s->p.top_k = 1000;
    if (!s->p.chunk_size) s->p.chunk_size = 50000;
    if (!s->p.query_block) s->p.query_block = 2048;
    s->exact = is_exact(s->p.index);
    s->index_desc = cm_strdup(s->exact ? "Flat" : s->p.index);
    s->index_params = s->p.index_params ? cm_strdup(s->p.index_params) : NULL;
    s->nq = nq;
    s->dim = dim;
    s->k = s->p.top_k;
    if (dim == 0 || dim > (size_t)1 << 24) {
        cm_search_free(s);
        return cm_error(CM_ERR_ARG, "search: bad vector dimension %zu", dim);
    }
    s->queries = cm_malloc((nq ? nq : 1) * dim * sizeof(float));
    s->qids = cm_calloc(nq ? nq : 1, sizeof(char *));
    s->h_cap = s->exact && !s->p.faiss_exact ? cm_topk_cap(s->k) : s->k;
    s->h_score = cm_malloc((nq ? nq : 1) * s->h_cap * sizeof(float));
    s->h_doc = cm_malloc((nq ? nq : 1) * s->h_cap * sizeof(uint32_t));
    s->h_n = cm_calloc(nq ? nq : 1, sizeof(size_t));
    s->h_thr = cm_malloc((nq ? nq : 1) * sizeof(float));
    if (!s->index_desc || (s->p.index_params && !s->index_params) || !s->queries || !s->qids || !s->h_score ||
        !s->h_doc || !s->h_n || !s->h_thr) {
        cm_search_free(s);
        return CM_ERR_NOMEM;
    }
    if (nq) memcpy(s->queries, queries, nq * dim * sizeof(float));
    for (size_t i = 0; i < nq; i++) s->h_thr[i] = -INFINITY;
    for (size_t i = 0; i < nq; i++)
        if (!(s->qids[i] = cm_strdup(query_ids[i]))) {
            cm_search_free(s);
            return CM_ERR_NOMEM;
        }
    int qrc = s->exact && !s->p.faiss_exact && s->p.skip_self   /* topk.c's buffer mode */
                  ? cm_topk_qids_init(&s->qids_map, (const char *const *)s->qids, nq) : CM_OK;
    if (qrc) {
        cm_search_free(s);
        return qrc;
    }
    if (!s->exact) {
        int frc = faiss_index_factory(&s->index, (int)dim, s->index_desc, METRIC_INNER_PRODUCT);
        if (frc) {
            int rc = cm_error(CM_ERR_ARG, "retrieval index '%s' is not a FAISS index_factory description "
                              "(e.g. Flat, HNSW32, IVF1024,Flat, IVF4096,PQ64): %s",
                              s->index_desc, faiss_get_last_error());
            s->index = NULL;
            cm_search_free(s);
            return rc;
        }
        int rc = apply_params(s, s->index);
        if (rc) {
            cm_search_free(s);
            return rc;
        }
    } else if (s->index_params && *s->index_params) {
        int rc = cm_error(CM_ERR_ARG, "retrieval index parameters '%s' need an approximate index "
                          "(the exact Flat index has none)", s->index_params);
        cm_search_free(s);
        return rc;
    }
    *out = s;
    return CM_OK;
}

size_t cm_search_n_docs(const cm_search *s) { return s->n_docs; }
const char *cm_search_index_name(const cm_search *s) { return s->index_desc; }

/* ---- hit sets (topk.c) ----------------------------------------------------- */
static inline const char *doc_id(const cm_search *s, uint32_t d) { return s->pool + s->doc_off[d]; }

/* The hit sets as topk.c sees them (the id pool may have moved since the last call). */
static cm_topk_heaps heaps_of(const cm_search *s) {
    cm_topk_heaps h = {s->nq, s->k, s->h_cap, s->h_score, s->h_doc, s->h_n, s->h_thr, s->pool, s->doc_off,
                       (const char *const *)s->qids, s->p.skip_self, s->qids_map};
    return h;
}

/* Searches idx (whose label 0 is global document `base`) for every query and
 * merges the hits into the heaps. */
static int search_merge(cm_search *s, FaissIndex *idx, size_t base, size_t n_in_index) {
    if (s->nq == 0 || n_in_index == 0) return CM_OK;
    size_t kk = s->k + 1;
    if (s->exact && kk > n_in_index) kk = n_in_index;
    size_t qb = s->p.query_block < s->nq ? s->p.query_block : s->nq;
    float *dist = cm_malloc(qb * kk * sizeof(float));
    idx_t *lab = cm_malloc(qb * kk * sizeof(idx_t));
    if (!dist || !lab) {
        free(dist);
        free(lab);
        return CM_ERR_NOMEM;
    }
    int rc = CM_OK;
    cm_topk_heaps h = heaps_of(s);
    for (size_t q0 = 0; q0 < s->nq && !rc; q0 += qb) {
        size_t nb = s->nq - q0 < qb ? s->nq - q0 : qb;
        int frc = faiss_Index_search(idx, (idx_t)nb, s->queries + q0 * s->dim, (idx_t)kk, dist, lab);
        if (frc) {
            rc = faiss_fail(frc, "search");
            break;
        }
#pragma omp parallel for schedule(dynamic, 16)
        for (size_t i = 0; i < nb; i++) {
            size_t q = q0 + i;
            for (size_t j = 0; j < kk; j++) {
                idx_t l = lab[i * kk + j];
                if (l < 0) continue; /* fewer hits than asked (approximate indexes) */
                uint32_t d = (uint32_t)(base + (size_t)l);
                if (s->p.skip_self && !strcmp(doc_id(s, d), s->qids[q])) continue;
                cm_topk_offer(&h, q, dist[i * kk + j], d);
            }
        }
    }
    free(dist);
    free(lab);
    return rc;
}

/* ---- adding documents ------------------------------------------------------ */
static int keep_ids(cm_search *s, const char *const *ids, size_t n) {
    if (s->n_docs + n > (size_t)UINT32_MAX)
        return cm_error(CM_ERR_UNSUPPORTED, "search: more than %u documents", (unsigned)UINT32_MAX);
    CM_TRY(cm_array_reserve(s->doc_off, s->cap_docs, s->n_docs + n));
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(ids[i]) + 1;
        if (s->pool_len + len > s->pool_cap)
            CM_TRY(cm_array_reserve(s->pool, s->pool_cap, cm_array_first(s->pool_len + len, 1 << 16)));
        memcpy(s->pool + s->pool_len, ids[i], len);
        s->doc_off[s->n_docs + i] = s->pool_len;
        s->pool_len += len;
    }
    return CM_OK;
}

static int flush_chunk(cm_search *s) {
    if (s->chunk_vecs) {   /* topk.c kernel */
        cm_topk_heaps h = heaps_of(s);
        int rc = s->chunk_n ? cm_topk_ip(&h, s->queries, s->chunk_vecs, s->chunk_n, s->dim, (uint32_t)s->chunk_first, 0)
                            : CM_OK;
        s->chunk_first += s->chunk_n;
        s->chunk_n = 0;
        return rc;
    }
    if (!s->chunk) return CM_OK;
    int rc = search_merge(s, s->chunk, s->chunk_first, s->chunk_n);
    faiss_Index_free(s->chunk);
    s->chunk = NULL;
    s->chunk_first += s->chunk_n;
    s->chunk_n = 0;
    return rc;
}

static int add_exact(cm_search *s, const float *vecs, size_t n) {
    if (!s->p.faiss_exact) {
        while (n > 0) {
            if (!s->chunk_vecs &&
                !(s->chunk_vecs = cm_malloc(cm_topk_panel_floats(topk_block(s->p.chunk_size), s->dim) *
                                            sizeof(float))))
                return CM_ERR_NOMEM;
            size_t room = topk_block(s->p.chunk_size) - s->chunk_n, take = n < room ? n : room;
            const size_t piece = 256;   /* documents per piece: each position is written by one piece */
#pragma omp parallel for schedule(static) if (take * s->dim >= ((size_t)1 << 18))
            for (size_t i = 0; i < take; i += piece)
                cm_topk_pack(s->chunk_vecs, s->chunk_n + i, vecs + i * s->dim, take - i < piece ? take - i : piece,
                             s->dim);
            s->chunk_n += take;
            vecs += take * s->dim;
            n -= take;
            if (s->chunk_n == topk_block(s->p.chunk_size)) CM_TRY(flush_chunk(s));
        }
        return CM_OK;
    }
    while (n > 0) {
        if (!s->chunk) {
            FaissIndexFlatIP *ix = NULL;
            int frc = faiss_IndexFlatIP_new_with(&ix, (idx_t)s->dim);
            if (frc) return faiss_fail(frc, "IndexFlatIP");
            s->chunk = ix;
            s->chunk_n = 0;
        }
        size_t room = s->p.chunk_size - s->chunk_n;
        size_t take = n < room ? n : room;
        int frc = faiss_Index_add(s->chunk, (idx_t)take, vecs);
        if (frc) return faiss_fail(frc, "add");
        s->chunk_n += take;
        vecs += take * s->dim;
        n -= take;
        if (s->chunk_n == s->p.chunk_size) CM_TRY(flush_chunk(s));
    }
    return CM_OK;
}

static int train_pending(cm_search *s) {
    if (!s->train_n) return CM_OK;
    int frc = faiss_Index_train(s->index, (idx_t)s->train_n, s->train_buf);
    if (frc)
        return cm_error(CM_ERR_ARG, "training retrieval index '%s' on %zu vectors failed: %s "
                        "(an IVF index needs at least as many vectors as lists; use fewer lists or Flat)",
                        s->index_desc, s->train_n, faiss_get_last_error());
    frc = faiss_Index_add(s->index, (idx_t)s->train_n, s->train_buf);
    if (frc) return faiss_fail(frc, "add");
    free(s->train_buf);
    s->train_buf = NULL;
    s->train_n = 0;
    return CM_OK;
}

static int add_approx(cm_search *s, const float *vecs, size_t n) {
    if (faiss_Index_is_trained(s->index) && !s->train_buf) {
        int frc = faiss_Index_add(s->index, (idx_t)n, vecs);
        return frc ? faiss_fail(frc, "add") : CM_OK;
    }
    /* Gather a training sample of chunk_size vectors first. */
    if (!s->train_buf) {
        s->train_buf = cm_malloc(s->p.chunk_size * s->dim * sizeof(float));
        if (!s->train_buf) return CM_ERR_NOMEM;
    }
    size_t take = s->p.chunk_size - s->train_n < n ? s->p.chunk_size - s->train_n : n;
    memcpy(s->train_buf + s->train_n * s->dim, vecs, take * s->dim * sizeof(float));
    s->train_n += take;
    if (s->train_n == s->p.chunk_size) {
        CM_TRY(train_pending(s));
        if (n > take) {
            int frc = faiss_Index_add(s->index, (idx_t)(n - take), vecs + take * s->dim);
            if (frc) return faiss_fail(frc, "add");
        }
    }
    return CM_OK;
}

int cm_search_add(cm_search *s, const float *vecs, const char *const *ids, size_t n) {
    CM_ASSERT(!s->finished);
    if (n == 0) return CM_OK;
    CM_TRY(keep_ids(s, ids, n));
    s->n_docs += n;
    return s->exact ? add_exact(s, vecs, n) : add_approx(s, vecs, n);
}

/* ---- results ------------------------------------------------------------------ */

/* Sorts the n hits (hs, hd) best first, score descending and, at equal scores, document id descending by
 * strcmp (trec_eval's order; the ranking qsort with that comparison gave before): an LSD radix sort of
 * (key << 32 | position) in four 8-bit passes, then each run of equal scores by id. tmp, tmp2: n entries each. */
static void rank_hits(const cm_search *s, const float *hs, const uint32_t *hd, size_t n, uint64_t *tmp,
                      uint64_t *tmp2) {
    for (size_t i = 0; i < n; i++) tmp[i] = (uint64_t)cm_topk_key(hs[i]) << 32 | (uint64_t)i;
    uint64_t *a = tmp, *b = tmp2;
    for (int shift = 32; shift < 64; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++) count[((a[i] >> shift) & 0xFF) + 1]++;
        if (count[((a[0] >> shift) & 0xFF) + 1] == n) continue;   /* one digit value: already in order */
        for (int v = 0; v < 256; v++) count[v + 1] += count[v];
        for (size_t i = 0; i < n; i++) b[count[(a[i] >> shift) & 0xFF]++] = a[i];
        uint64_t *t = a;
        a = b;
        b = t;
    }
    if (a != tmp) memcpy(tmp, a, n * sizeof *tmp);
    for (size_t lo = 0; lo < n;) {   /* runs of one score: insertion sort by id, descending */
        size_t hi = lo + 1;
        while (hi < n && tmp[hi] >> 32 == tmp[lo] >> 32) hi++;
        for (size_t i = lo + 1; i < hi; i++) {
            uint64_t x = tmp[i];
            const char *xid = doc_id(s, hd[(uint32_t)x]);
            size_t j = i;
            for (; j > lo && strcmp(doc_id(s, hd[(uint32_t)tmp[j - 1]]), xid) < 0; j--) tmp[j] = tmp[j - 1];
            tmp[j] = x;
        }
        lo = hi;
    }
}

int cm_search_finish(cm_search *s) {
    CM_ASSERT(!s->finished);
    if (s->exact) {
        CM_TRY(flush_chunk(s));
        if (!s->p.faiss_exact) {   /* topk.c's buffers: each query's k best first */
            cm_topk_heaps h = heaps_of(s);
            cm_topk_cut(&h, 0);
        }
    } else {
        CM_TRY(train_pending(s));
        CM_TRY(search_merge(s, s->index, 0, s->n_docs));
    }
    s->res_ids = cm_malloc((s->nq ? s->nq : 1) * s->k * sizeof(char *));
    if (!s->res_ids) return CM_ERR_NOMEM;
    int rc = CM_OK;
#pragma omp parallel if (s->nq * s->k >= 65536)
    {
        uint64_t *tmp = cm_malloc(2 * (s->k ? s->k : 1) * sizeof *tmp);
        float *ts = cm_malloc((s->k ? s->k : 1) * sizeof *ts);
        uint32_t *td = cm_malloc((s->k ? s->k : 1) * sizeof *td);
        if (!tmp || !ts || !td) {
#pragma omp atomic write
            rc = CM_ERR_NOMEM;
        }
#pragma omp for schedule(dynamic, 16)
        for (size_t q = 0; q < s->nq; q++) {
            if (!tmp || !ts || !td) continue;
            size_t n = s->h_n[q];
            float *hs = s->h_score + q * s->h_cap;
            uint32_t *hd = s->h_doc + q * s->h_cap;
            if (n == 0) continue;
            rank_hits(s, hs, hd, n, tmp, tmp + s->k);
            for (size_t i = 0; i < n; i++) {
                ts[i] = hs[(uint32_t)tmp[i]];
                td[i] = hd[(uint32_t)tmp[i]];
            }
            for (size_t i = 0; i < n; i++) {
                hs[i] = ts[i];
                hd[i] = td[i];
                s->res_ids[q * s->k + i] = doc_id(s, td[i]);
            }
        }
        free(tmp);
        free(ts);
        free(td);
    }
    if (rc) return rc;
    s->finished = 1;
    return CM_OK;
}

size_t cm_search_hits(const cm_search *s, size_t q, const char *const **doc_ids, const float **scores) {
    CM_ASSERT(s->finished && q < s->nq);
    *doc_ids = s->res_ids + q * s->k;
    *scores = s->h_score + q * s->h_cap;
    return s->h_n[q];
}
