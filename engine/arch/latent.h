/*
 * latent.h: NV-Embed's latent-attention pooling (reference: tests/reference/ref_dec_models.py),
 * implemented from its description:
 *
 *   q  = LN0(H) Wq^T                      H: the decoder's last hidden states (one row per token)
 *   K,V = chunk(LN_ctx(latents) Wkv^T)    r trained latents; computed ONCE at load
 *   O  = softmax(q_h K_h^T / sqrt(dh)) V_h per head h (no mask: keys are the latents)
 *   H1 = O Wo^T + H
 *   H2 = GEGLU(LN1(H1) W0^T + b0) W2^T + b2 + H1    (value half * gelu(gate half), exact GELU)
 *   e  = mean of H2 over the pool mask, then L2-normalised (output_normalize)
 *
 * Every token is independent of the others here, so tokens outside the pool
 * mask (the instruction) are not computed at all.
 *
 * The pooler depends on nothing of the decoder (decoder.h includes this
 * header, not the other way round).
 *
 * Ownership: cm_latent_load allocates (the projections borrow the checkpoint
 * mapping, which must outlive it), cm_latent_free releases (NULL ok).
 */
#ifndef CMTEB_ENGINE_ARCH_LATENT_H
#define CMTEB_ENGINE_ARCH_LATENT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/arch/model.h"
#include "engine/nn/bf16.h"
#include "engine/nn/safetensors.h"

/* NV-Embed's latent_attention_config (config.json; decoder.c reads it). */
typedef struct cm_latent_config {
    int64_t n_latents, heads, head_dim, hidden, latent_dim;
    int     normalize;            /* output_normalize */
} cm_latent_config;

typedef struct cm_latent {
    int64_t d;                 /* model width (= hidden_dim = latent_dim) */
    int64_t r;                 /* latents */
    int64_t heads, dh;         /* cross-attention heads and head width; inner = heads * dh */
    int64_t ff;                /* GEGLU width (4 * d) */
    int     normalize;
    float  *ln0_g, *ln0_b, *ln1_g, *ln1_b;
    float  *kv;                /* (r, 2 * inner): K in columns [0, inner), V in [inner, 2 inner) */
    cm_wmat to_q, to_out, net0, net2;
    float  *b0, *b2;           /* (2 ff), (d) */
    cm_wlinear_params linear;  /* BF16 linear strategy, fixed at load */
} cm_latent;

/* Loads latent_attention_model.* and precomputes the latents' K/V; lp (NULL:
 * defaults) is kept for every later cm_wlinear. */
int  cm_latent_load(cm_latent **out, const cm_latent_config *lc, int64_t hidden, const cm_safetensors *st,
                    int threads, const cm_wlinear_params *lp);
void cm_latent_free(cm_latent *l);
int64_t cm_latent_n_params(const cm_latent_config *lc);

/* Pools hidden (b->n_tokens, d) into out (b->n_seqs, d). exclude_instr leaves
 * each sequence's first n_instr tokens out of the mean (all tokens when that
 * would leave none). */
int cm_latent_pool(const cm_latent *l, const cm_hf_batch *b, const float *hidden, int exclude_instr, int threads,
                   float *out);

#endif
