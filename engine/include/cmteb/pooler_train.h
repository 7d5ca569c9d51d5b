/*
 * pooler_train.h: trainable pooling heads over a frozen backbone's token
 * hidden states (issue #17): forward and backward in float32, the InfoNCE
 * loss with in-batch and hard negatives, AdamW, and the head's files.
 *
 * Heads (d = backbone width; every head maps a sequence's token states
 * X (L, d) to one vector e (d)):
 *   mean-linear     e = W mean(X[s0:]) + b
 *   last-linear     e = W X[L-1] + b
 *   self-attention  p = softmax((X[s0:] Wk^T) q / sqrt(d)); e = Wo (p^T (X[s0:] Wv^T)) + bo
 *   latent          NV-Embed's latent attention (engine/arch/latent.h), every part trainable:
 *                   latents, ln_ctx, to_kv, ln0, to_q, to_out, ln1, GEGLU net0/net2; e = mean of H2.
 * s0 = the first pooled token (instruction tokens left out); the loss L2-normalises e.
 *
 * Parameters live in one flat float array, described by a tensor table
 * (name, shape, offset) so that AdamW, checkpoints and gradient checks walk
 * it generically. Ownership: cm_head_init / cm_head_load allocate, cm_head_free
 * releases (NULL ok); tensor views borrow the head.
 */
#ifndef CMTEB_POOLER_TRAIN_H
#define CMTEB_POOLER_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "cmteb/encoder.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cm_head_kind {
    CM_HEAD_MEAN_LINEAR = 1,
    CM_HEAD_LAST_LINEAR = 2,
    CM_HEAD_SELF_ATTN   = 3,
    CM_HEAD_LATENT      = 4,
} cm_head_kind;

/* "mean-linear|last-linear|self-attention|latent"; CM_ERR_ARG naming the choices if bad. */
int         cm_head_kind_parse(const char *s, cm_head_kind *out);
const char *cm_head_kind_name(cm_head_kind k);

typedef struct cm_head_params {
    cm_head_kind kind;
    int64_t      d;          /* backbone width (input and output) */
    int64_t      n_latents;  /* latent: trained latents (default 64) */
    int64_t      heads;      /* latent: cross-attention heads (default 4); head_dim = d / heads */
    uint64_t     seed;       /* initialisation (default 42) */
} cm_head_params;

cm_head_params cm_head_default_params(void);

typedef struct cm_head cm_head;

typedef struct cm_head_tensor {
    const char *name;        /* borrowed, e.g. "to_q.weight" */
    int         ndim;        /* 1 or 2 */
    int64_t     shape[2];
    float      *w, *g;       /* values and accumulated gradients (numel floats each), borrowed */
    int         decay;       /* 1: AdamW applies weight decay (matrices and latents) */
} cm_head_tensor;

/* Allocates a head initialised as torch would (Linear: U(+-1/sqrt(in)), LN: 1/0, latents N(0,1)) from
 * p.seed; caller frees with cm_head_free. */
int    cm_head_init(cm_head **out, const cm_head_params *p);
void   cm_head_free(cm_head *h);
const cm_head_params *cm_head_get_params(const cm_head *h);
size_t cm_head_n_tensors(const cm_head *h);
cm_head_tensor cm_head_tensor_at(const cm_head *h, size_t i);
/* Finds a tensor by name; NULL when absent (borrowed). */
int    cm_head_find(const cm_head *h, const char *name, cm_head_tensor *out);
size_t cm_head_n_params(const cm_head *h);
float *cm_head_weights(cm_head *h);     /* (n_params) flat values, borrowed */
float *cm_head_grads(cm_head *h);       /* (n_params) flat gradients, borrowed */
void   cm_head_zero_grad(cm_head *h);

/* Pools one sequence's states X (L, d), rows [s0, L) pooled (last-linear reads row L-1), into e (d); no
 * normalisation. s0 >= L means s0 = 0. */
int cm_head_forward(const cm_head *h, const float *X, size_t L, size_t s0, float *e);
/* Adds d(loss)/d(params) for one sequence given dE = d(loss)/de (d) to the head's gradients (recomputes the
 * forward pass; X is frozen, so no gradient for it). */
int cm_head_backward(cm_head *h, const float *X, size_t L, size_t s0, const float *dE);

/* ---- loss ------------------------------------------------------------------ */

/* InfoNCE over B queries: each query i scores its positive P[i], the other positives when in_batch, and its k
 * hard negatives N[i*k .. i*k+k), all as cosine / temperature; loss = mean_i cross-entropy(target = its
 * positive). Q, P (B, d), N (B*k, d) are raw head outputs (normalised here). Writes the loss and, when dQ is
 * not NULL, dQ, dP (B, d), dN (B*k, d) (caller-allocated). */
int cm_infonce(const float *Q, const float *P, const float *N, size_t B, size_t k, size_t d, int in_batch,
               float temperature, double *loss, float *dQ, float *dP, float *dN);

/* ---- optimiser ------------------------------------------------------------- */

typedef struct cm_adamw_params {
    float lr, beta1, beta2, eps, weight_decay;   /* defaults 1e-3, 0.9, 0.999, 1e-8, 0.01 */
    long  warmup;                                /* linear warm-up steps (default 0) */
} cm_adamw_params;

cm_adamw_params cm_adamw_default_params(void);
/* One AdamW step (torch.optim.AdamW semantics, decoupled decay on tensors with decay=1) at step t (1-based;
 * the learning rate ramps linearly over the first warmup steps). m, v: (n_params) moments, caller-owned. */
void cm_adamw_step(cm_head *h, const cm_adamw_params *p, long t, float *m, float *v);

/* ---- files ----------------------------------------------------------------- */

/* Writes DIR/config.json (kind, sizes) and DIR/model.safetensors (F32, the tensor table's names). */
int cm_head_save(const cm_head *h, const char *dir);
/* Reads a folder cm_head_save wrote, checking the width d (0: any) and every tensor's shape; caller frees. */
int cm_head_load(cm_head **out, const char *dir, int64_t d);

/* ---- the frozen backbone and its cached token states ----------------------- */

typedef struct cm_pooler_backbone cm_pooler_backbone;

/* Loads the hf: model folder dir with p's engine options (attention, max length, templates, threads) on the
 * CPU; caller frees with cm_pooler_backbone_free. */
int  cm_pooler_backbone_open(cm_pooler_backbone **out, const char *dir, const cm_encoder_params *p);
void cm_pooler_backbone_free(cm_pooler_backbone *b);
int64_t     cm_pooler_backbone_dim(const cm_pooler_backbone *b);
const char *cm_pooler_backbone_fingerprint(const cm_pooler_backbone *b);   /* weights + settings, borrowed */
/* The backbone's own mean-pooled, L2-normalised vectors of texts into out (n, d) (for mining negatives). */
int cm_pooler_backbone_mean(cm_pooler_backbone *b, const char *const *texts, size_t n, cm_role role,
                            const char *instruction, float *out);

/* Token states of n texts: text i owns rows [off[i], off[i] + len[i]) of x (rows of d floats); s0[i] = its
 * leading instruction tokens (left out of the pooled rows). Ownership: the struct owns its arrays
 * (cm_pooler_states_free). */
typedef struct cm_pooler_states {
    size_t  n;
    int64_t d;
    size_t *len, *s0, *off;
    float  *x;
} cm_pooler_states;

/* Computes the token states of texts (roles[i] per text; queries get instruction) or reads them from
 * cache_path when it holds exactly these texts under this backbone's fingerprint; writes the cache
 * (atomically) after computing. cache_path NULL: no cache. Progress goes to the progress sink. */
int  cm_pooler_states_get(cm_pooler_backbone *b, const char *const *texts, const cm_role *roles, size_t n,
                          const char *instruction, const char *cache_path, cm_pooler_states *out);
void cm_pooler_states_free(cm_pooler_states *s);

/* ---- training ------------------------------------------------------------ */

enum { CM_POOLER_MAX_NEG = 16 };

/* One training example: indexes into the states (query, positive, k hard negatives). */
typedef struct cm_pooler_example {
    size_t q, pos, neg[CM_POOLER_MAX_NEG];
} cm_pooler_example;

typedef struct cm_pooler_train_params {
    cm_adamw_params opt;
    int      epochs;           /* default 1; 0: no step (the head stays as initialised) */
    size_t   batch;            /* examples per step (default 16) */
    size_t   k;                /* hard negatives per example used (<= CM_POOLER_MAX_NEG; default 0) */
    int      in_batch;         /* 1 (default): the other examples' positives are negatives too */
    float    temperature;      /* default 0.05 */
    uint64_t seed;             /* shuffling (default 42) */
    long     max_steps;        /* stop after this many steps in all (0: every epoch) */
    long     checkpoint_every; /* steps between checkpoints (default 50) */
    const char *checkpoint_dir;/* NULL: no checkpoints; else resumed from when it holds one of this run */
    const char *log_path;      /* NULL or a file that gets "step<TAB>epoch<TAB>loss" lines */
} cm_pooler_train_params;

cm_pooler_train_params cm_pooler_train_default_params(void);

/* Trains h on the examples (AdamW, InfoNCE) and reports progress with the running loss. Resumes from
 * p->checkpoint_dir when it holds a checkpoint of the same head kind and sizes (the same steps are then
 * skipped: shuffles depend on the seed and the epoch only, so a resumed run ends where an uninterrupted one
 * does). Returns CM_ERR_INTERRUPTED (after writing a checkpoint) when interrupted. *mean_first / *mean_last:
 * the mean loss of the first and of the last epoch this call ran (NULL ok; NaN when it ran no step; the means
 * over all runs: cm_pooler_log_means). */
int cm_pooler_train(cm_head *h, const cm_pooler_states *st, const cm_pooler_example *ex, size_t n_ex,
                    const cm_pooler_train_params *p, double *mean_first, double *mean_last);

/* The mean loss of the first and of the last epoch in a training log (log_path's lines, every run of a resumed
 * training: a resume first drops the lines past its checkpoint), NaN when it holds no step. CM_ERR_IO when it
 * cannot be read, CM_ERR_FORMAT naming the line that is not "step<TAB>epoch<TAB>loss". Owns nothing. */
int cm_pooler_log_means(const char *log_path, double *first, double *last);

#ifdef __cplusplus
}
#endif
#endif
