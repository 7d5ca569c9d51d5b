/*
 * reranking_data.h: the hub layout of MTEB reranking tasks.
 *
 * One record per sample, {"query": "..." or ["...", ...], "positive": [...],
 * "negative": [...]} in SPLIT.jsonl[.gz] (or any file cm_data_find_split
 * finds). A list of queries (MindSmallReranking: the user's click history)
 * is scored by the maximum over its members. Samples with no positive or no
 * negative document are dropped, as MTEB does before anything else.
 *
 * Ownership: cm_rerank_data_load allocates the data; cm_rerank_data_free
 * releases it (NULL is fine).
 */
#ifndef CMTEB_DATASETS_RERANKING_DATA_H
#define CMTEB_DATASETS_RERANKING_DATA_H

#include <stddef.h>

typedef struct cm_rerank_sample {
    char  **queries;     /* (n_queries) one, or the members of a query list */
    size_t  n_queries;
    char  **docs;        /* (n_pos + n_neg): positives first, then negatives */
    size_t  n_pos, n_neg;
} cm_rerank_sample;

typedef struct cm_rerank_data {
    cm_rerank_sample *samples;   /* (n_samples) kept samples, file order */
    size_t            n_samples;
    size_t            n_dropped;  /* samples without positives or without negatives */
    char             *path;
} cm_rerank_data;

/* subset may be NULL. */
int  cm_rerank_data_load(cm_rerank_data **out, const char *dir, const char *subset, const char *split);
void cm_rerank_data_free(cm_rerank_data *d);

#endif
