/*
 * bert.h: the loaded state of the BERT-family encoders (bert.c implements
 * cm_hf_arch_bert), public so that other engines running the same weights
 * (engine/cuda) can read them. cm_hf_model_state() returns a cm_bert for
 * these models.
 *
 * Every weight is float32, converted at load and owned by the model (with
 * --dtype bf16/int8 the four Linear matrices of each layer are replaced by
 * their low-precision form, cm_bert_layer.q_*); Q, K, V
 * are fused into one (3h, h) matrix (rows [0, h) query, [h, 2h) key,
 * [2h, 3h) value). The forward pass (post-LN) is:
 *   x = LN_emb(word[id] + pos[p] + type0)   p: i (BERT) or RoBERTa's
 *        padding-offset position (pad_token_id + number of non-pad tokens up
 *        to and including i; pad tokens keep pad_token_id)
 *   per layer: x = LN1(x + (Attn(x Wqkv^T + bqkv) Wo^T + bo))
 *              x = LN2(x + act(x Wi^T + bi) Wo2^T + bo2)
 * MPNet adds rel_bias[bucket[(j - i) + max_positions] * heads + head] to the
 * score of query i and key j in every layer.
 *
 * Ownership: bert.c's load allocates everything here and its free releases
 * it; readers borrow.
 */
#ifndef CMTEB_ENGINE_ARCH_BERT_H
#define CMTEB_ENGINE_ARCH_BERT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/arch/model.h"
#include "engine/nn/ops.h"

/* cm_bert.kind */
enum { CM_BERT_KIND_BERT = 0, CM_BERT_KIND_ROBERTA = 1, CM_BERT_KIND_MPNET = 2 };

typedef struct cm_bert_layer {
    float *wqkv, *bqkv;     /* (3h, h), (3h) */
    float *wo, *bo;         /* (h, h), (h) */
    float *ln1_g, *ln1_b;   /* (h) */
    float *wi, *bi;         /* (I, h), (I) */
    float *wo2, *bo2;       /* (h, I), (h) */
    float *ln2_g, *ln2_b;   /* (h) */
    /* --dtype bf16/int8 on the CPU: wqkv, wo, wi, wo2 in that dtype (cm_arch_prepare_f32; the float32
     * matrix is then NULL); empty for fp32 */
    cm_wmat q_qkv, q_o, q_i, q_o2;
} cm_bert_layer;

struct bert_ws;   /* bert.c's per-thread activations */

typedef struct cm_bert {
    cm_hf_config   cfg;
    int            kind;            /* CM_BERT_KIND_* */
    cm_act         act;
    float         *word;            /* (V, h) */
    float         *pos;             /* (P, h) */
    float         *type0;           /* (h) token type 0, or NULL (MPNet) */
    float         *emb_ln_g, *emb_ln_b;
    cm_bert_layer *layers;          /* (n_layers) */
    float         *rel_bias;        /* MPNet: (buckets, heads) */
    int64_t        n_buckets;
    int32_t       *bucket;          /* MPNet: bucket of relative offset r at bucket[r + max_positions], (2P + 1) */
    /* per-thread activations of the CPU forward pass, grown on demand */
    struct bert_ws *ws;
    int            n_ws;
} cm_bert;

#endif
