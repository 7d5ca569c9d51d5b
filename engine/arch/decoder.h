/*
 * decoder.h: the decoder-LLM embedders of the native engine (issue 6):
 * Llama / Mistral / Qwen2 / Qwen3 decoder stacks (RMSNorm, rotary positions
 * with the config's theta in HF's rotate-half layout, grouped-query attention,
 * SwiGLU MLP, optional q/k/v biases and Qwen3's per-head q/k RMSNorm; causal
 * with Mistral's sliding window, or bidirectional over the real tokens), and
 * NV-Embed (model_type "nvembed": a bidirectional Mistral under
 * `embedding_model.*` plus the latent-attention pooling of latent.h under
 * `latent_attention_model.*`), and Gemma 3 text encoders (model_type
 * "gemma3_text", EmbeddingGemma: RMSNorm with (1 + weight), four norms per
 * layer, per-head q/k norms, GeGLU-tanh MLP, embeddings scaled by
 * sqrt(hidden), sliding-window and global layers with their own rotary
 * theta, query_pre_attn_scalar, optional attention logit softcapping;
 * bidirectional when use_bidirectional_attention). Rotary scaling
 * (rope_scaling linear / dynamic / llama3) and per-layer sliding windows
 * (Qwen2 max_window_layers, Gemma 3 layer_types) come from config.json.
 *
 *   decoder_config.c   config.json (rope_scaling, windows, Gemma 3 fields), parameter count
 *   decoder.c          footprint, weight loading, the arch vtable
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

#include "engine/arch/decoder_ops.h"
#include "engine/arch/latent.h"
#include "engine/arch/model.h"
#include "engine/nn/bf16.h"

/* At most this many layers (cm_hf_config_check_limits' num_hidden_layers bound). */
enum { CM_DEC_MAX_LAYERS = 4096 };

/* What config.json says beyond cm_hf_config. */
typedef struct cm_dec_config {
    double  rope_theta;
    cm_dec_rope rope;           /* global layers' rotary (rope_theta + rope_scaling) */
    cm_dec_rope rope_local;     /* Gemma 3 sliding layers (rope_local_base_freq, unscaled); = rope otherwise */
    int64_t sliding_window;     /* 0: none (or use_sliding_window false) */
    unsigned char layer_sliding[CM_DEC_MAX_LAYERS];   /* 1: layer i uses sliding_window (all layers for Mistral) */
    int     per_layer_window;   /* some layers slide and others do not (Qwen2 max_window_layers, Gemma 3) */
    int     window_both;        /* the window also bounds later keys under bidirectional attention (Gemma 3) */
    int     gemma3;             /* model_type gemma3_text: Gemma norms, GeGLU, embedding scale */
    int     gelu_tanh;          /* Gemma 3 MLP activation: 1 gelu_pytorch_tanh, 0 exact gelu */
    double  attn_scale;         /* score scale: query_pre_attn_scalar^-1/2 (Gemma 3), else head_dim^-1/2 */
    double  softcap;            /* attn_logit_softcapping, 0: none */
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
    float  *q_norm, *k_norm;            /* (head_dim), Qwen3; Gemma 3 (stored as 1 + weight) */
    float  *ln_pre_ff, *ln_post_ff;     /* (hidden), Gemma 3 (as 1 + weight, like every Gemma norm) */
} cm_dec_layer;

typedef struct cm_decoder {
    cm_hf_config   cfg;
    cm_dec_config  dc;
    cm_wmat        embed;               /* (vocab, hidden) */
    float          embed_scale;         /* 1, or sqrt(hidden) for Gemma 3 (float32, as HF running in float32) */
    cm_dec_layer  *layers;              /* (n_layers) */
    float         *norm;                /* (hidden) */
    cm_latent     *latent;              /* NV-Embed only */
    void          *owned;               /* small float arrays, one block */
} cm_decoder;

int  cm_decoder_load(cm_decoder **out, const cm_hf_config *cfg, const cJSON *config, const cm_safetensors *st,
                     const char *dir);
void cm_decoder_free(cm_decoder *m);

/* Forward pass: hidden (b->n_tokens, cfg.hidden) = final-RMSNorm'ed last
 * hidden states; causal selects the mask (Mistral's and Qwen2's sliding
 * window applies to causal attention only; Gemma 3's to both). */
int cm_decoder_forward(const cm_decoder *m, const cm_hf_batch *b, int causal, int threads, float *hidden);

#endif
