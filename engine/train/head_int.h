/*
 * head_int.h: the head's internals shared by head.c (table, linear and
 * self-attention heads), head_latent.c (the latent head), head_io.c (files)
 * and optim.c (AdamW). Ownership: the head owns w and g.
 */
#ifndef CMTEB_ENGINE_TRAIN_HEAD_INT_H
#define CMTEB_ENGINE_TRAIN_HEAD_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cmteb/pooler_train.h"

enum { CM_HEAD_MAX_TENSORS = 16 };

typedef struct cm_head_slot {
    char    name[32];
    int     ndim;
    int64_t shape[2];   /* a vector: (n, 1) */
    size_t  off;        /* into w / g */
    int     init;       /* 0 zeros, 1 ones, 2 U(+-1/sqrt(fan_in)), 3 N(0,1) */
    int     decay;
    int64_t fan_in;
} cm_head_slot;

struct cm_head {
    cm_head_params p;
    cm_head_slot   t[CM_HEAD_MAX_TENSORS];
    size_t         n_t, n;   /* tensors, floats */
    float         *w, *g;    /* (n) values, gradients */
};

/* Tensor i's values / gradients (borrowed). */
const float *cm_head_w(const cm_head *h, size_t i);
float       *cm_head_g(cm_head *h, size_t i);

/* The latent head over the pooled rows Xp (n, d): e (d) when e is not NULL; when dE is not NULL adds the
 * gradients into hm (which is h, writable). */
int cm_head_latent_run(cm_head *hm, const cm_head *h, const float *Xp, size_t n, float *e, const float *dE);

#endif
