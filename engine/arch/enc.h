/*
 * enc.h: the loaded state and shared forward pass of the encoder families
 * that differ from BERT in position encoding, MLP or norm placement:
 *   NomicBert   (nomic.c, model_type "nomic_bert"): rotary positions on a
 *               fraction of each head, SwiGLU MLP (fc11 up, fc12 gate),
 *               fused Wqkv, post-norm; nomic-embed-text-v1/v1.5
 *   JinaBert    (jina.c, model_type "bert" with position_embedding_type
 *               "alibi"): ALiBi biases, GLU MLP (gated_layers, wo), no
 *               position embeddings, post-norm; jina-embeddings-v2
 *   ModernBERT  (modernbert.c, model_type "modernbert"): pre-norm, RoPE with
 *               a global and a local theta, sliding-window attention on the
 *               layers that are not global, GeGLU MLP (Wi, Wo), embedding
 *               norm and final norm, no biases by default
 *
 * Every weight is float32, converted at load and owned by the state. The
 * MLP is stored in one layout for all three: wi (2I, h) whose rows [0, I)
 * go through the activation and rows [I, 2I) multiply it,
 *   mlp(x) = (act(x wi[0:I]^T + bi[0:I]) * (x wi[I:2I]^T + bi[I:2I])) wo2^T + bo2
 * The layer (h = hidden states, rows of the packed batch, model.h):
 *   post-norm: x = LN1(x + Attn(x));  x = LN2(x + mlp(x))
 *   pre-norm:  x = x + Attn(LN1(x));  x = x + mlp(LN2(x))   (LN1 of layer 0
 *              may be the identity: ln1_g NULL)
 * Attention: softmax(q k^T / sqrt(dh) + bias) v per head, where q and k are
 * first rotated (RoPE, rotate-half pairs (i, i + rot/2) over the first `rot`
 * dims of each head, angle pos * theta^(-2i/rot)) or get the ALiBi bias
 * -slope_head * |i - j|; a local layer masks keys with |i - j| > window.
 *
 * Ownership: each family's load allocates a cm_enc (cm_enc_alloc) and
 * cm_enc_free releases it with everything it points to.
 */
#ifndef CMTEB_ENGINE_ARCH_ENC_H
#define CMTEB_ENGINE_ARCH_ENC_H

#include <stddef.h>
#include <stdint.h>

#include "engine/arch/model.h"
#include "engine/nn/ops.h"

enum { CM_ENC_ROPE = 0, CM_ENC_ALIBI = 1 };

typedef struct cm_enc_layer {
    float  *wqkv, *bqkv;     /* (3h, h), (3h) or NULL */
    float  *wo, *bo;         /* (h, h), (h) or NULL */
    float  *ln1_g, *ln1_b;   /* (h); ln1_g NULL: identity (ModernBERT layer 0); ln1_b never NULL */
    float  *wi, *bi;         /* (2I, h), (2I) or NULL: activated half first */
    float  *wo2, *bo2;       /* (h, I), (h) or NULL */
    float  *ln2_g, *ln2_b;   /* (h) */
    int     local;           /* 1: sliding-window attention (ModernBERT local layer) */
    /* --dtype bf16/int8 on the CPU: wqkv, wo, wi, wo2 in that dtype (cm_enc_prepare; the float32 matrix is
     * then NULL); empty for fp32 */
    cm_wmat q_qkv, q_o, q_i, q_o2;
} cm_enc_layer;

typedef struct cm_enc {
    cm_hf_config  cfg;
    const char   *family;         /* "NomicBert", "JinaBert", "ModernBERT" (messages) */
    int           prenorm;        /* 1: pre-norm layers (ModernBERT) */
    int           pos_kind;       /* CM_ENC_ROPE or CM_ENC_ALIBI */
    cm_act        act;            /* the MLP's activation */
    float        *word;           /* (V, h) */
    float        *type0;          /* (h) token type 0, or NULL */
    float        *emb_ln_g, *emb_ln_b;   /* (h) */
    float        *final_g, *final_b;     /* (h) final norm, or NULL (g) */
    cm_enc_layer *layers;         /* (n_layers) */
    float        *zeros;          /* (max(h, 2I)) for norms without a bias */
    /* positions */
    size_t        rot;            /* RoPE: rotated dims per head (even, <= head_dim) */
    double        theta_global, theta_local;
    size_t        window;         /* local layers: keys with |i - j| <= window */
    float        *slopes;         /* ALiBi: (n_heads) */
    /* RoPE tables (max_len, rot/2) for the global and local theta, grown on demand */
    float        *cos_g, *sin_g, *cos_l, *sin_l;
    size_t        rope_len;
    /* activations of the forward pass, grown on demand */
    float        *x2, *qkv, *ctx, *tmp, *inter, *att;
    size_t        cap, att_cap;
    size_t       *pos;            /* (n_tokens) position of each row in its sequence */
    cm_wscratch   lin;            /* the low-precision products' scratch */
} cm_enc;

/* A zeroed state with cfg copied (NULL when out of memory); family names
 * the architecture in messages. */
cm_enc *cm_enc_alloc(const cm_hf_config *cfg, const char *family);
void    cm_enc_free(void *state);

/* Weight lookup for a family's load: the tensor prefix + name converted to
 * float32 into *out (caller owns; freed with the state when stored there),
 * shape checked ((d0) or (d0, d1)). Missing: CM_ERR_NOTFOUND naming the
 * tensor and the family, unless optional, when *out stays NULL and CM_OK. */
typedef struct cm_enc_loader {
    const cm_safetensors *st;
    const char           *prefix;
    const char           *family;
} cm_enc_loader;
int cm_enc_get(const cm_enc_loader *L, const char *name, int ndim, int64_t d0, int64_t d1, int optional,
               float **out);
/* Finds the prefix ("", "model.", "bert.", ...) under which probe exists in
 * st; NULL when none does. */
const char *cm_enc_find_prefix(const cm_safetensors *st, const char *probe);

/* Integer / number / bool / string fields of config.json; a missing or null
 * field takes dflt unless required (CM_ERR_FORMAT naming the field). */
int cm_enc_cfg_int(const cJSON *c, const char *dir, const char *key, int64_t dflt, int required, int64_t *out);
int cm_enc_cfg_num(const cJSON *c, const char *dir, const char *key, double dflt, double *out);
int cm_enc_cfg_bool(const cJSON *c, const char *dir, const char *key, int dflt, int *out);

/* Checks the filled sizes (hidden a positive multiple of heads, ...) and
 * limits, sets n_kv_heads, head_dim, out_dim and bidirectional attention. */
int cm_enc_cfg_finish(cm_hf_config *cfg, const char *dir, const char *eps_key);

/* Replaces each layer's four Linear matrices by their cfg.linear.dtype form (bf16/int8; nothing for fp32);
 * each family's load calls it last. */
int cm_enc_prepare(cm_enc *m);

/* The shared forward pass (cm_hf_arch.forward) and scratch estimate. */
int    cm_enc_forward(void *state, const cm_hf_batch *b, const cm_hf_forward_opts *o, float *hidden);
size_t cm_enc_scratch_bytes(const void *state, size_t n_tokens, size_t max_len);

/* ALiBi slopes of the ALiBi paper for n heads: for a power of two n,
 * 2^(-8(i+1)/n); otherwise those of the closest lower power of two followed
 * by every other slope of twice that. out: (n). */
void cm_enc_alibi_slopes(size_t n, float *out);

extern const cm_hf_arch cm_hf_arch_nomic;        /* nomic.c */
extern const cm_hf_arch cm_hf_arch_jina;         /* jina.c */
extern const cm_hf_arch cm_hf_arch_modernbert;   /* modernbert.c */

#endif
