/*
 * pairclass_data.h: the hub layout of MTEB pair-classification tasks.
 *
 * MTEB v1 reads row 0 of the split: {"sent1": [...], "sent2": [...],
 * "labels": [0/1, ...]} (one line of SPLIT.jsonl). Files with one pair per
 * row ({"sentence1"|"sent1", "sentence2"|"sent2", "label"|"labels"} scalars,
 * the later hub layout) are read too. Labels must be 0 or 1 (true/false
 * accepted).
 *
 * Ownership: cm_pair_data_load allocates; cm_pair_data_free releases (NULL ok).
 */
#ifndef CMTEB_DATASETS_PAIRCLASS_DATA_H
#define CMTEB_DATASETS_PAIRCLASS_DATA_H

#include <stddef.h>

typedef struct cm_pair_data {
    char  **sent1, **sent2;   /* (n) */
    int    *labels;           /* (n) 0 or 1 */
    size_t  n;
    size_t  extra_rows;       /* rows after row 0 that v1 ignores (list layout only) */
    char   *path;
} cm_pair_data;

int  cm_pair_data_load(cm_pair_data **out, const char *dir, const char *subset, const char *split);
void cm_pair_data_free(cm_pair_data *d);

#endif
