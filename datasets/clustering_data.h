/*
 * clustering_data.h: loading a clustering task's eval split.
 *
 * Two layouts, told apart by the type of the text field in the first row:
 *   sets (MTEB v1): each row is one cluster set,
 *        {"sentences": ["...", ...], "labels": ["a" | 3, ...]} of equal length;
 *   flat (MTEB v2 "fast" datasets): each row is one document,
 *        {"sentences": "...", "labels": "a" | 3 | ["level0", "level1", ...]}
 *        (a list gives hierarchical labels, one per level); all rows form
 *        one set.
 * Labels are compared by value (numbers by number, strings by text; see
 * classification_data.h) and numbered per set and level in order of first
 * appearance (set layout: one numbering shared by all sets, so they can be
 * pooled).
 *
 * Ownership: cm_clustering_data_load allocates (*out);
 * cm_clustering_data_free releases it (NULL is fine).
 */
#ifndef CMTEB_DATASETS_CLUSTERING_DATA_H
#define CMTEB_DATASETS_CLUSTERING_DATA_H

#include <stddef.h>

typedef struct cm_cluster_set {
    size_t n;
    char **texts;      /* (n) owned */
    int    depth;      /* label levels (1 unless flat rows carry label lists) */
    int   *labels;     /* (n, depth) row-major ids per level; -1 where a row has fewer levels */
    int   *n_labels;   /* (depth) distinct labels per level */
} cm_cluster_set;

typedef struct cm_clustering_data {
    size_t          n_sets;
    cm_cluster_set *sets;
    int             flat;   /* 1: one document per row (all in sets[0]) */
    char           *path;   /* the file read */
} cm_clustering_data;

/* text_field / label_field NULL mean "sentences" / "labels". Errors name
 * file:line and field. */
int  cm_clustering_data_load(cm_clustering_data **out, const char *folder, const char *subset, const char *split,
                             const char *text_field, const char *label_field);
void cm_clustering_data_free(cm_clustering_data *d);

#endif
