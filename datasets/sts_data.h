/*
 * sts_data.h: STS pairs ({"sentence1", "sentence2", "score"} rows) from a
 * task's split file (jsonl, jsonl.gz, csv, tsv).
 *
 * Ownership: cm_sts_data_load fills *d with allocated arrays that
 * cm_sts_data_free releases.
 */
#ifndef CMTEB_DATASETS_STS_DATA_H
#define CMTEB_DATASETS_STS_DATA_H

#include <stddef.h>

typedef struct cm_sts_data {
    char  **s1, **s2;   /* (n) sentences */
    double *score;      /* (n) gold scores as stored */
    size_t  n;
    char   *path;       /* the file read */
} cm_sts_data;

/* Field names default to sentence1/sentence2/score (NULL picks the default). */
int  cm_sts_data_load(const char *folder, const char *subset, const char *split, const char *f1,
                      const char *f2, const char *fscore, cm_sts_data *d);
void cm_sts_data_free(cm_sts_data *d);

#endif
