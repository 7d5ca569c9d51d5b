/*
 * classification_data.h: loading a classification task's train and eval
 * splits (rows {"text": ..., "label": ...}), and the label table the
 * learning evaluators share.
 *
 * Labels are compared by value, as Python compares them: numbers (and
 * booleans) by number, strings by text; the two kinds never mix (an error).
 * In CSV/TSV files every field is text, so a label that reads completely as
 * a number counts as that number. Label ids are dense, in sorted order
 * (numbers ascending, strings by code point), which is the order of
 * numpy.unique and so of scikit-learn's classes_.
 *
 * Ownership: loaders allocate (*out); the matching _free releases (NULL is
 * fine). Names returned by accessors are borrowed from the table.
 */
#ifndef CMTEB_DATASETS_CLASSIFICATION_DATA_H
#define CMTEB_DATASETS_CLASSIFICATION_DATA_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* ---- label table ------------------------------------------------------------ */
typedef struct cm_label_table cm_label_table;

int    cm_label_table_init(cm_label_table **out);
/* Interns the label value v (number, bool or string; numeric_strings: a
 * string that parses fully as a number is that number). *id is a
 * provisional id (order of first appearance) until cm_label_table_sort.
 * A value of another type is CM_ERR_FORMAT with a message naming it
 * (callers add file:line). */
int    cm_label_table_add(cm_label_table *t, const cJSON *v, int numeric_strings, int *id);
/* Renumbers the labels in sorted order; remap[provisional] = sorted id
 * (a new array, caller frees). Mixed numbers and strings: CM_ERR_FORMAT. */
int    cm_label_table_sort(cm_label_table *t, int **remap);
size_t cm_label_table_count(const cm_label_table *t);
/* The label as text ("7", "2.5", "positive"). Borrowed. */
const char *cm_label_table_name(const cm_label_table *t, int id);
void   cm_label_table_free(cm_label_table *t);

/* ---- classification splits --------------------------------------------------- */
typedef struct cm_clf_split {
    size_t n;
    char **texts;    /* (n) owned strings; NULL entries for rows not loaded (see train_texts) */
    int   *labels;   /* (n) sorted label ids */
    char  *path;     /* the file it came from (owned) */
} cm_clf_split;

typedef struct cm_clf_data {
    cm_clf_split    train, eval;
    cm_label_table *labels;   /* over both splits, sorted */
} cm_clf_data;

typedef struct cm_clf_data_params {
    const char *subset;        /* hf_subset folder, NULL for none */
    const char *train_split;   /* default "train" */
    const char *eval_split;    /* default "test" */
    const char *text_field;    /* default "text" */
    const char *label_field;   /* default "label" */
    int         train_texts;   /* 1 (default): load every train text; 0: labels only,
                                  texts later with cm_clf_split_load_texts (a 3.6M-row
                                  train split then costs its labels, not its text) */
} cm_clf_data_params;

cm_clf_data_params cm_clf_data_default_params(void);

/* Loads both splits from a hub download folder (cm_data_find_split finds
 * the files). Errors name file:line and field. */
int  cm_clf_data_load(cm_clf_data **out, const char *folder, const cm_clf_data_params *params);
void cm_clf_data_free(cm_clf_data *d);

/* Reads the texts of the rows with want[i] != 0 (want has s->n entries) from
 * s->path again; other rows keep what they have. The file must not have
 * changed (a different row count is an error). */
int  cm_clf_split_load_texts(cm_clf_split *s, const char *text_field, const unsigned char *want);

#endif
