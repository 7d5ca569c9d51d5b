/*
 * topk.h: exact top-k inner-product selection of queries against a block of
 * documents, merged into one bounded min-heap per query (the exact kernel of
 * search.c).
 *
 * Scores are Q . D^T from single-threaded OpenBLAS sgemm calls on tiles of
 * CM_TOPK_QTILE queries x CM_TOPK_DTILE documents, one tile per thread (no
 * BLAS thread hand-off); each score row is then scanned against its query's
 * heap threshold (the worst kept score), so only documents that can enter
 * the heap touch it. The heap keeps the k best (score, document id) pairs in
 * Python's tuple order: among equal scores the larger id (strcmp) is kept,
 * which is what BEIR's heapq over every document gives. A document whose id
 * equals the query's id is skipped when skip_self is set.
 *
 * Ownership: everything borrowed; the heaps are the caller's and are updated
 * in place.
 */
#ifndef CMTEB_TASKS_RETRIEVAL_TOPK_H
#define CMTEB_TASKS_RETRIEVAL_TOPK_H

#include <stddef.h>
#include <stdint.h>

#define CM_TOPK_QTILE 64
#define CM_TOPK_DTILE 2048

/* The per-query heaps and the id strings that break ties. */
typedef struct cm_topk_heaps {
    size_t             nq, k;
    float             *score;     /* (nq, k) min-heap on (score, id) */
    uint32_t          *doc;       /* (nq, k) global document numbers */
    size_t            *n;         /* (nq) entries held */
    const char        *pool;      /* document ids: pool + off[doc] */
    const size_t      *off;       /* (documents so far) */
    const char *const *qids;      /* (nq) query ids, for skip_self */
    int                skip_self;
} cm_topk_heaps;

/* Offers (score, doc) to query q's heap. */
void cm_topk_offer(const cm_topk_heaps *h, size_t q, float score, uint32_t doc);

/* Scores the nq queries Q (nq, dim) against the nd documents D (nd, dim)
 * whose first is document `base` of the heaps' numbering, and merges every
 * hit into the heaps. Tiles are placed by base + origin (origin: the number of
 * documents before this search's first, when it searches a slice of a larger
 * corpus), so scores are bit-identical however the corpus is chunked or
 * sliced. threads 0: all. Returns CM_OK or CM_ERR_NOMEM. */
int cm_topk_ip(const cm_topk_heaps *h, const float *Q, const float *D, size_t nd, size_t dim, uint32_t base,
               size_t origin, int threads);

/* Bytes cm_topk_ip allocates for `threads` threads (0: all): score tiles. */
size_t cm_topk_scratch_bytes(int threads);

#endif
