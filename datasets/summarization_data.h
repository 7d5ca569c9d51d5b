/*
 * summarization_data.h: the hub layout of MTEB summarization tasks (SummEval).
 *
 * One record per source text: {"id" (optional), "text" (optional),
 * "human_summaries": [...], "machine_summaries": [...], "relevance": [...]}
 * with one relevance score per machine summary.
 *
 * Ownership: cm_summ_data_load allocates; cm_summ_data_free releases (NULL ok).
 */
#ifndef CMTEB_DATASETS_SUMMARIZATION_DATA_H
#define CMTEB_DATASETS_SUMMARIZATION_DATA_H

#include <stddef.h>

typedef struct cm_summ_item {
    char   *id;          /* the record's id, or its 0-based index */
    char  **human;       /* (n_human) */
    size_t  n_human;
    char  **machine;     /* (n_machine) */
    double *relevance;   /* (n_machine) */
    size_t  n_machine;
} cm_summ_item;

typedef struct cm_summ_data {
    cm_summ_item *items;   /* (n) */
    size_t        n;
    char         *path;
} cm_summ_data;

int  cm_summ_data_load(cm_summ_data **out, const char *dir, const char *subset, const char *split);
void cm_summ_data_free(cm_summ_data *d);

#endif
