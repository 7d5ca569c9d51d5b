/*
 * pooler_model.h: the model folder `cmteb train-pooler` writes, as hf_model.c
 * reads it: DIR/config.json is
 *   {"cmteb_pooler": {"backbone": PATH, "head": "1_Head", "attention": "bidirectional"|"causal",
 *                     "query_template": T|null, "max_length": N}}
 * (PATH absolute, or relative to DIR), DIR/1_Head holds the head (cm_head_save).
 * Ownership: *out is allocated (cm_pooler_ref_free).
 */
#ifndef CMTEB_ENGINE_TRAIN_POOLER_MODEL_H
#define CMTEB_ENGINE_TRAIN_POOLER_MODEL_H

#include "cmteb/pooler_train.h"

typedef struct cm_pooler_ref {
    char *backbone;        /* the backbone folder */
    char *head_dir;        /* DIR/<head> */
    char *attention;       /* NULL when unset */
    char *query_template;  /* NULL when unset */
    int   max_length;      /* 0 when unset */
} cm_pooler_ref;

/* *out = NULL (and CM_OK) when DIR/config.json is not a trained-pooler config; else the reference. Errors name
 * DIR/config.json and the field. */
int  cm_pooler_ref_read(const char *dir, cm_pooler_ref **out);
void cm_pooler_ref_free(cm_pooler_ref *r);

#endif
