/*
 * topk.h: exact top-k inner-product selection of queries against a block of
 * documents, kept per query (the exact kernel of search.c), and the bounded
 * min-heaps the FAISS paths merge their hits into.
 *
 * Scores are Q . D^T from single-threaded OpenBLAS sgemm calls on tiles of
 * CM_TOPK_QTILE queries x CM_TOPK_DTILE documents, one tile per thread (no
 * BLAS thread hand-off); each score row is then scanned against its query's
 * threshold (the worst of the k best held), 16 scores per compare, and the
 * hits that can still enter are appended to the query's buffer. A full
 * buffer (cm_topk_cap(k) entries) is cut back to its k best by quickselect,
 * which raises the threshold: O(k + B) per B hits, where a heap paid a
 * sift-down of log2 k unpredictable steps per hit. The k best are ranked in
 * Python's tuple order (score, id): among equal scores the larger id (strcmp)
 * wins, which is what BEIR's heapq over every document keeps. A document
 * whose id equals the query's id is skipped when skip_self is set.
 *
 * Ownership: everything borrowed; the hit sets are the caller's and are
 * updated in place.
 */
#ifndef CMTEB_TASKS_RETRIEVAL_TOPK_H
#define CMTEB_TASKS_RETRIEVAL_TOPK_H

#include <stddef.h>
#include <stdint.h>

#define CM_TOPK_QTILE 64
#define CM_TOPK_DTILE 2048

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
} cm_topk_heaps;

/* Heap mode: offers (score, doc) to query q's heap. */
void cm_topk_offer(const cm_topk_heaps *h, size_t q, float score, uint32_t doc);

/* Entries per query that buffer mode needs for top-k: k + max(k, 256). */
size_t cm_topk_cap(size_t k);

/* Buffer mode: scores the nq queries Q (nq, dim) against the nd documents D
 * (nd, dim) whose first is document `base` of the hit sets' numbering, and
 * adds the hits that can rank in a query's top k to its buffer. Tiles are
 * placed by base + origin (origin: the number of documents before this
 * search's first, when it searches a slice of a larger corpus), so scores are
 * bit-identical however the corpus is chunked or sliced. threads 0: all.
 * Returns CM_OK or CM_ERR_NOMEM. */
int cm_topk_ip(const cm_topk_heaps *h, const float *Q, const float *D, size_t nd, size_t dim, uint32_t base,
               size_t origin, int threads);

/* Buffer mode: cuts every query's buffer to its k best (first n entries, no order). threads 0: all. */
void cm_topk_cut(const cm_topk_heaps *h, int threads);

/* Bytes cm_topk_ip allocates for `threads` threads (0: all): score tiles. */
size_t cm_topk_scratch_bytes(int threads);

#endif
