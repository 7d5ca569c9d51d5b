/*
 * train_data.h: training data of `cmteb train-pooler` (cmd_train_pooler.c):
 * the texts to embed (unique per role) and the examples (query, positive,
 * hard negatives) that point at them, read from
 *   beir:DIR[#SPLIT]  a BEIR folder (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv; SPLIT default train;
 *                     "test" refused: it is what MTEB evaluates)
 *   jsonl:FILE        {"query": ..., "positive": ..., "negatives": [...]} per line
 * and hard negatives mined with the backbone's mean-pooled vectors.
 * Ownership: the set owns every string and array (cm_train_set_free).
 */
#ifndef CMTEB_EVAL_CLI_TRAIN_DATA_H
#define CMTEB_EVAL_CLI_TRAIN_DATA_H

#include <stddef.h>

#include "cmteb/pooler_train.h"
#include "cmteb/strmap.h"

typedef struct cm_train_set {
    char             **texts;     /* (n) */
    cm_role           *roles;     /* (n) */
    size_t             n, cap;
    cm_strmap         *index;     /* role byte + text -> position */
    cm_pooler_example *ex;        /* (n_ex) */
    size_t            *n_neg;     /* (n_ex) negatives each example has so far */
    size_t             n_ex, cap_ex;
} cm_train_set;

typedef struct cm_train_mining {
    size_t k;         /* hard negatives per example */
    float  margin;    /* skip candidates scoring above (positive's score - margin) */
    size_t limit;     /* at most this many examples per source (0: all) */
    const char *instruction;
} cm_train_mining;

/* Adds the examples of one SPEC to set, mining up to mp->k negatives per example among the source's documents
 * with bb (the backbone); an example left with fewer than k is dropped (a warning counts them; an error when
 * none is left). Errors name the file and line or the refused split. */
int  cm_train_set_add(cm_train_set *set, const char *spec, cm_pooler_backbone *bb, const cm_train_mining *mp);
void cm_train_set_free(cm_train_set *set);

#endif
