/*
 * search.h: top-k inner-product search of a fixed set of queries against a
 * corpus that arrives in pieces, through FAISS's C API.
 *
 * Exact mode (index "Flat", the default): documents are gathered into a
 * chunk of at most chunk_size vectors; when it is full (and at the end) every
 * query is scored against it by topk.c (faiss_exact = 0) (tiled sgemm, then each score that can
 * still enter the query's bounded min-heap is merged into it), so the memory
 * held is one chunk of vectors plus the heaps, whatever the corpus size. The
 * hits are those of a heapq over every (score, id) pair, i.e. BEIR's
 * DenseRetrievalExactSearch with a chunk of one document (faiss_exact = 0). With faiss_exact the
 * chunk is a FAISS IndexFlatIP searched for top_k + 1 per query instead (the
 * earlier kernel): the same hits except where equal scores straddle a
 * chunk's (top_k + 1)-th place, where FAISS chooses among them by position.
 *
 * Approximate mode (any other faiss_index_factory description, e.g. "HNSW32",
 * "IVF1024,Flat", "IVF4096,PQ64"): one index of that kind over the whole
 * corpus with the inner-product metric; an index that needs training is
 * trained on the first chunk_size vectors. index_params (e.g. "nprobe=64",
 * "efSearch=256") go through faiss_ParameterSpace_set_index_parameters.
 *
 * Self-retrieval: with skip_self, a document whose id equals the query's id
 * is never a hit (MTEB v1 drops it at search time).
 *
 * Heap order follows Python's heapq over (score, doc_id) tuples as BEIR uses
 * it: among equal scores the larger id (strcmp) is kept.
 *
 * Vectors should be L2-normalised by the caller (inner product = cosine).
 * Ownership: cm_search_init copies the query vectors and ids; cm_search_add
 * copies documents into the index and their ids into the search; hits are
 * borrowed from the search until cm_search_free.
 */
#ifndef CMTEB_TASKS_RETRIEVAL_SEARCH_H
#define CMTEB_TASKS_RETRIEVAL_SEARCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct cm_search_params {
    size_t      top_k;        /* hits kept per query (default 1000) */
    size_t      chunk_size;   /* exact: vectors per IndexFlatIP; approximate: training sample (default 50000) */
    size_t      query_block;  /* queries per FAISS search call (default 2048) */
    const char *index;        /* NULL or "Flat": exact; else a faiss_index_factory description */
    const char *index_params; /* NULL or a FAISS ParameterSpace string such as "nprobe=64" */
    int         skip_self;    /* drop hits whose id equals the query id (default 1) */
    int         faiss_exact;  /* 0 (default): topk.c, several times faster than FAISS, every score the same
                                 whatever the chunking or slicing; 1: the earlier kernel, FAISS IndexFlatIP
                                 (the same hits except where near-equal scores round differently) */
} cm_search_params;

cm_search_params cm_search_default_params(void);

/* Bytes the search holds at its peak for nq queries of width dim over a
 * corpus of n_docs: the query vectors, one chunk of document vectors (exact)
 * or the index's vectors uncompressed (approximate: an upper bound), the
 * heaps, and the FAISS result block, reservoirs and BLAS tile (faiss_exact or
 * approximate) or topk.c's per-thread score tiles (exact). Document id
 * strings are not included (their offsets are). */
size_t cm_search_mem_estimate(size_t nq, size_t dim, size_t n_docs, const cm_search_params *p);

/* The largest exact-search chunk (documents, 1..n_docs) whose estimate
 * (cm_search_mem_estimate with p's other fields) fits in budget bytes;
 * 0 when even one document per chunk does not fit. */
size_t cm_search_chunk_for_budget(size_t budget, size_t nq, size_t dim, size_t n_docs, const cm_search_params *p);

typedef struct cm_search cm_search;

/* queries: (nq, dim) row-major; query_ids: (nq). Both copied. */
int  cm_search_init(cm_search **out, const float *queries, const char *const *query_ids, size_t nq, size_t dim,
                    const cm_search_params *params);
/* Adds n documents: vecs (n, dim) row-major, ids (n). Copied. May search a
 * full chunk before returning. */
int  cm_search_add(cm_search *s, const float *vecs, const char *const *ids, size_t n);
/* Searches what is pending and orders every query's hits best first
 * (score descending, then id descending). Call once, after the last add. */
int  cm_search_finish(cm_search *s);
/* Hits of query q after cm_search_finish: *doc_ids (n) and *scores (n),
 * borrowed until cm_search_free. Returns n. */
size_t cm_search_hits(const cm_search *s, size_t q, const char *const **doc_ids, const float **scores);
/* Documents added so far. */
size_t cm_search_n_docs(const cm_search *s);
/* The index description in use ("Flat" for exact). Borrowed. */
const char *cm_search_index_name(const cm_search *s);
void cm_search_free(cm_search *s);

#endif
