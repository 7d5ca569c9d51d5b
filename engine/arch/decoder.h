/*
 * decoder.h: the decoder-LLM embedders of the native engine (issue 6):
 * Llama / Mistral / Qwen2 / Qwen3 decoder stacks (RMSNorm, rotary positions
 * with the config's theta in HF's rotate-half layout, grouped-query attention,
 * SwiGLU MLP, optional q/k/v biases and Qwen3's per-head q/k RMSNorm; causal
 * with Mistral's sliding window, or bidirectional over the real tokens), and
 * NV-Embed (model_type "nvembed": a bidirectional Mistral under
 * `embedding_model.*` plus the latent-attention pooling of latent.h under
 * `latent_attention_model.*`).
 *
 *   decoder.c          config.json, footprint, weight loading, the arch vtable
 *                      cm_hf_arch_decoder (model.h)
 *   decoder_forward.c  the forward pass over a packed batch
 *   decoder_ops.c      kernels (decoder_ops.h)
 *   bf16.c             BF16 weights kept BF16, converted per tile (bf16.h)
 *   latent.c           NV-Embed latent attention (latent.h)
 *
 * Ownership: cm_decoder_load allocates, cm_decoder_free releases (NULL ok);
 * weights borrow the checkpoint mapping, which must outlive the model.
 */
#ifndef CMTEB_ENGINE_ARCH_DECODER_H
#define CMTEB_ENGINE_ARCH_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "engine/arch/latent.h"
#include "engine/arch/model.h"
#include "engine/nn/bf16.h"

/* What config.json says beyond cm_hf_config. */
typedef struct cm_dec_config {
    double  rope_theta;
    int64_t sliding_window;     /* 0: none (or use_sliding_window false) */
    int     qkv_bias;           /* Qwen2; Llama attention_bias */
    int     o_bias;             /* Llama attention_bias */
    int     mlp_bias;           /* Llama mlp_bias */
    int     qk_norm;            /* Qwen3 per-head q/k RMSNorm */
    int     nvembed;            /* model_type nvembed */
    const char *prefix;         /* tensor name prefix: "model." or "embedding_model." */
    cm_latent_config lat;       /* NV-Embed latent_attention_config (defaults of LatentAttentionConfig when absent) */
} cm_dec_config;

/* Fills cfg and dc from config.json (c); for nvembed the decoder sizes come
 * from text_config. Errors name dir/config.json and the field. */
int cm_dec_read_config(const cJSON *c, const char *dir, cm_hf_config *cfg, cm_dec_config *dc);

/* Parameters of the model described by cfg/dc (embeddings, layers, final
 * norm, the latent layer for NV-Embed; no lm_head). */
int64_t cm_dec_n_params(const cm_hf_config *cfg, const cm_dec_config *dc);

typedef struct cm_dec_layer {
    cm_wmat q, k, v, o, gate, up, down;
    float  *bq, *bk, *bv, *bo;          /* NULL when absent */
    float  *bgate, *bup, *bdown;        /* NULL when absent */
    float  *ln_in, *ln_post;            /* (hidden) */
    float  *q_norm, *k_norm;            /* (head_dim), Qwen3 */
} cm_dec_layer;

typedef struct cm_decoder {
    cm_hf_config   cfg;
    cm_dec_config  dc;
    cm_wmat        embed;               /* (vocab, hidden) */
    cm_dec_layer  *layers;              /* (n_layers) */
    float         *norm;                /* (hidden) */
    cm_latent     *latent;              /* NV-Embed only */
    void          *owned;               /* small float arrays, one block */
} cm_decoder;

int  cm_decoder_load(cm_decoder **out, const cm_hf_config *cfg, const cJSON *config, const cm_safetensors *st,
                     const char *dir);
void cm_decoder_free(cm_decoder *m);

/* Forward pass: hidden (b->n_tokens, cfg.hidden) = final-RMSNorm'ed last
 * hidden states; causal selects the mask (Mistral's sliding window applies
 * to causal attention only). */
int cm_decoder_forward(const cm_decoder *m, const cm_hf_batch *b, int causal, int threads, float *hidden);

#endif
