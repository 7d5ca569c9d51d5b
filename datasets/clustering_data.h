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

/* The same split read one cluster set at a time, so that a caller can work on
 * the sets read so far while the rest is parsed. _next reads the next row
 * into the reader's data and returns 1 with *index its set (set layout); a
 * flat file is read whole by the first call (its one set, index 0); 0 at the
 * end; <0 on error (cm_clustering_data_load's messages; the reader then ends).
 * The data (cm_clustering_reader_data) grows with each call: sets[] may move,
 * but a set's texts, labels and n_labels stay where they are until close.
 * Ownership: _open allocates the reader, _close frees it and its data; the
 * field names and split are borrowed until close. */
typedef struct cm_clustering_reader cm_clustering_reader;
int  cm_clustering_reader_open(cm_clustering_reader **out, const char *folder, const char *subset, const char *split,
                               const char *text_field, const char *label_field);
int  cm_clustering_reader_next(cm_clustering_reader *r, size_t *index);
const cm_clustering_data *cm_clustering_reader_data(const cm_clustering_reader *r);
void cm_clustering_reader_close(cm_clustering_reader *r);

#endif
