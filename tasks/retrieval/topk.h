/*
 * topk.h: exact top-k inner-product selection of queries against a block of
 * documents, kept per query (the exact kernel of search.c), and the bounded
 * min-heaps the FAISS paths merge their hits into.
 *
 * Scores are Q . D^T from a register-blocked kernel (6 queries x 16
 * documents, AVX2 + FMA where the CPU has them, chosen at run time; else a
 * portable loop with the same bits): each score is one fused multiply-add
 * chain over the dimensions in order, so it does not depend on the chunking,
 * the slicing of a corpus (--shard) or the thread count. Documents are kept
 * packed in panels of CM_TOPK_PANEL (cm_topk_pack). Each query's scores are
 * compared with its threshold (the worst of the k best held) in the kernel,
 * and the hits that can still enter are appended to the query's buffer. A
 * full buffer (cm_topk_cap(k) entries) is cut back to its k best by
 * quickselect, which raises the threshold: O(k + B) per B hits, where a heap
 * paid a sift-down of log2 k unpredictable steps per hit. The k best are
 * ranked in Python's tuple order (score, id): among equal scores the larger
 * id (strcmp) wins, which is what BEIR's heapq over every document keeps. A
 * document whose id equals the query's id is skipped when skip_self is set.
 * CMTEB_TOPK_PORTABLE=1 in the environment forces the portable kernel (tests).
 *
 * Ownership: everything borrowed; the hit sets are the caller's and are
 * updated in place.
 */
#ifndef CMTEB_TASKS_RETRIEVAL_TOPK_H
#define CMTEB_TASKS_RETRIEVAL_TOPK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CM_TOPK_PANEL 16   /* documents per packed panel */

/* A score's rank as an unsigned key, best first: key(a) < key(b) iff a > b, equal iff a == b (-0.0 and +0.0 are
 * one key). For finite scores and infinities; NaN never reaches a hit set (inputs are checked for finiteness). */
static inline uint32_t cm_topk_key(float f) {
    f += 0.0f;   /* -0.0 -> +0.0 */
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u ^ (~(uint32_t)((int32_t)u >> 31) & 0x7FFFFFFFu);   /* negative: as is; else the low 31 bits flipped */
}

/* Per-query hit sets, in one of two modes:
 *   heap mode (cm_topk_offer): cap == k, a min-heap on (score, id) per query;
 *   buffer mode (cm_topk_ip): cap == cm_topk_cap(k), the hits held in no
 *     order; after cm_topk_cut each query's first n <= k entries are its k best. */
typedef struct cm_topk_heaps {
    size_t             nq, k, cap;
    float             *score;     /* (nq, cap) */
    uint32_t          *doc;       /* (nq, cap) global document numbers */
    size_t            *n;         /* (nq) entries held */
    float             *thr;       /* (nq) buffer mode: hits below it cannot enter (-inf until k are held) */
    const char        *pool;      /* document ids: pool + off[doc] */
    const size_t      *off;       /* (documents so far) */
    const char *const *qids;      /* (nq) query ids, for skip_self */
    int                skip_self;
    const struct cm_topk_qids *qids_map;   /* buffer mode with skip_self: cm_topk_qids_init of qids */
} cm_topk_heaps;

/* The query ids as cm_topk_ip's skip_self looks documents up in them: built once per search. Ownership:
 * cm_topk_qids_init allocates (qids borrowed while it runs), cm_topk_qids_free releases (NULL ok). */
typedef struct cm_topk_qids cm_topk_qids;
int  cm_topk_qids_init(cm_topk_qids **out, const char *const *qids, size_t nq);
void cm_topk_qids_free(cm_topk_qids *m);

/* Heap mode: offers (score, doc) to query q's heap. */
void cm_topk_offer(const cm_topk_heaps *h, size_t q, float score, uint32_t doc);

/* Entries per query that buffer mode needs for top-k: k + max(k, 256). */
size_t cm_topk_cap(size_t k);

/* Floats that n packed documents of width dim take (whole panels). */
size_t cm_topk_panel_floats(size_t n, size_t dim);

/* Packs the n vectors x (n, dim) as documents at .. at + n - 1 of the panel
 * buffer P (cm_topk_panel_floats(at + n, dim) floats at least). */
void cm_topk_pack(float *P, size_t at, const float *x, size_t n, size_t dim);

/* Buffer mode: scores the nq queries Q (nq, dim) against the nd documents
 * packed in P (documents 0 .. nd - 1 of the panels; those past nd in the
 * last panel are ignored), whose first is document `base` of the hit sets'
 * numbering, and adds the hits that can rank in a query's top k to its
 * buffer. threads 0: all. Returns CM_OK or CM_ERR_NOMEM. */
int cm_topk_ip(const cm_topk_heaps *h, const float *Q, const float *P, size_t nd, size_t dim, uint32_t base,
               int threads);

/* Buffer mode: cuts every query's buffer to its k best (first n entries, no order). threads 0: all. */
void cm_topk_cut(const cm_topk_heaps *h, int threads);

#endif
