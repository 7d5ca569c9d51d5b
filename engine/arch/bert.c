/*
 * bert.c: implements cm_hf_arch_bert (model.h), the BERT-family encoders:
 *   bert                     BertModel (also MiniLM, BGE, E5, GTE-base shapes)
 *   roberta, xlm-roberta,    RoBERTa embeddings: positions start at
 *   camembert                padding_idx + 1 (padding tokens keep padding_idx)
 *   mpnet                    MPNet: RoBERTa positions, no token types, and a
 *                            relative position bias (32 buckets, max distance
 *                            128) added to every layer's attention scores
 * Post-LN transformer: x = LN(x + Attn(x)); x = LN(x + FFN(x)). Weights are
 * converted to float32 at load; Q, K, V are fused into one (3h, h) matrix.
 */
#include "engine/arch/bert.h"
#include "engine/arch/enc.h"
#include "engine/arch/model.h"

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/nn/ops.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

enum { BK_BERT = CM_BERT_KIND_BERT, BK_ROBERTA = CM_BERT_KIND_ROBERTA, BK_MPNET = CM_BERT_KIND_MPNET };

typedef cm_bert_layer bert_layer;   /* bert.h */
typedef cm_bert bert;

static const char *const bert_types[] = {"bert", "roberta", "xlm-roberta", "camembert", "mpnet", NULL};

static int kind_of(const char *mt) {
    if (!strcmp(mt, "mpnet")) return BK_MPNET;
    if (!strcmp(mt, "roberta") || !strcmp(mt, "xlm-roberta") || !strcmp(mt, "camembert")) return BK_ROBERTA;
    return BK_BERT;
}

/* ---- config -------------------------------------------------------------- */

static int cfg_int(const cJSON *c, const char *dir, const char *key, int64_t dflt, int required, int64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    if (!v || cJSON_IsNull(v)) {
        if (required) return cm_error(CM_ERR_FORMAT, "%s/config.json: field '%s' is missing", dir, key);
        *out = dflt;
        return CM_OK;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < -1 || v->valuedouble > 1e12)
        return cm_error(CM_ERR_FORMAT, "%s/config.json: field '%s': expected an integer", dir, key);
    *out = (int64_t)v->valuedouble;
    return CM_OK;
}

static int bert_read_config(const cJSON *c, const char *dir, cm_hf_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(c, "model_type");
    snprintf(cfg->model_type, sizeof cfg->model_type, "%s", cJSON_IsString(mt) ? mt->valuestring : "bert");
    const cJSON *arch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "architectures"), 0);
    snprintf(cfg->architecture, sizeof cfg->architecture, "%s", cJSON_IsString(arch) ? arch->valuestring : "");
    int kind = kind_of(cfg->model_type);
    CM_TRY(cfg_int(c, dir, "vocab_size", 0, 1, &cfg->vocab_size));
    CM_TRY(cfg_int(c, dir, "hidden_size", 0, 1, &cfg->hidden));
    CM_TRY(cfg_int(c, dir, "num_hidden_layers", 0, 1, &cfg->n_layers));
    CM_TRY(cfg_int(c, dir, "num_attention_heads", 0, 1, &cfg->n_heads));
    CM_TRY(cfg_int(c, dir, "intermediate_size", 0, 1, &cfg->intermediate));
    CM_TRY(cfg_int(c, dir, "max_position_embeddings", 512, 0, &cfg->max_positions));
    CM_TRY(cfg_int(c, dir, "type_vocab_size", kind == BK_MPNET ? 0 : 2, 0, &cfg->type_vocab_size));
    if (kind == BK_MPNET) cfg->type_vocab_size = 0;
    CM_TRY(cfg_int(c, dir, "pad_token_id", kind == BK_BERT ? 0 : 1, 0, &cfg->pad_token_id));
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(c, "layer_norm_eps");
    if (eps && !cJSON_IsNull(eps) && !cJSON_IsNumber(eps))
        return cm_error(CM_ERR_FORMAT, "%s/config.json: field 'layer_norm_eps': expected a number", dir);
    cfg->norm_eps = cJSON_IsNumber(eps) ? eps->valuedouble : 1e-12;
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(c, "hidden_act");
    snprintf(cfg->hidden_act, sizeof cfg->hidden_act, "%s", cJSON_IsString(act) ? act->valuestring : "gelu");
    if (cm_act_parse(cfg->hidden_act) < 0)
        return cm_error(CM_ERR_UNSUPPORTED, "%s/config.json: hidden_act '%s' is not supported (gelu, gelu_new, "
                        "gelu_pytorch_tanh, relu, silu)", dir, cfg->hidden_act);
    const cJSON *pet = cJSON_GetObjectItemCaseSensitive(c, "position_embedding_type");
    if (cJSON_IsString(pet) && strcmp(pet->valuestring, "absolute") != 0)
        return cm_error(CM_ERR_UNSUPPORTED, "%s/config.json: position_embedding_type '%s' is not supported "
                        "(absolute only)", dir, pet->valuestring);
    return cm_enc_cfg_finish(cfg, dir, "layer_norm_eps");
}

static void bert_footprint(const cm_hf_config *c, int64_t *n_params, int64_t *bytes) {
    int64_t h = c->hidden, I = c->intermediate;
    int64_t emb = c->vocab_size * h + c->max_positions * h + c->type_vocab_size * h + 2 * h;
    int64_t layer = 4 * h * h + 4 * h + 2 * h * I + I + h + 4 * h;
    int64_t n = emb + c->n_layers * layer;
    if (!strcmp(c->model_type, "mpnet")) n += 32 * c->n_heads;
    *n_params = n;
    *bytes = 4 * n;
}

/* ---- loading ------------------------------------------------------------- */

typedef struct loader {
    const cm_safetensors *st;
    const char           *prefix;
    const char           *dir;
} loader;

static int get(const loader *L, const char *name, int ndim, int64_t d0, int64_t d1, float **out) {
    char full[512];
    snprintf(full, sizeof full, "%s%s", L->prefix, name);
    const cm_st_tensor *t = cm_st_find(L->st, full);
    if (!t) {
        /* old checkpoints: LayerNorm.gamma / .beta */
        char alt[512];
        size_t n = strlen(full);
        if (n > 7 && !strcmp(full + n - 7, ".weight") && strstr(full, "LayerNorm")) {
            snprintf(alt, sizeof alt, "%.*s.gamma", (int)(n - 7), full);
            t = cm_st_find(L->st, alt);
        } else if (n > 5 && !strcmp(full + n - 5, ".bias") && strstr(full, "LayerNorm")) {
            snprintf(alt, sizeof alt, "%.*s.beta", (int)(n - 5), full);
            t = cm_st_find(L->st, alt);
        }
    }
    if (!t) return cm_error(CM_ERR_NOTFOUND, "%s: tensor '%s' not found (expected by the %s architecture)",
                            cm_st_path(L->st), full, "BERT-family");
    int64_t shape[2] = {d0, d1};
    CM_TRY(cm_st_check_shape(t, ndim, shape));
    return cm_st_to_f32(t, out);
}

/* Reads a (rows, cols) tensor into dst (caller-allocated). */
static int get_into(const loader *L, const char *name, int ndim, int64_t d0, int64_t d1, float *dst) {
    float *tmp = NULL;
    CM_TRY(get(L, name, ndim, d0, d1, &tmp));
    memcpy(dst, tmp, (size_t)(ndim == 1 ? d0 : d0 * d1) * sizeof *dst);
    free(tmp);
    return CM_OK;
}

/* Activations of one span of sequences, owned by one thread of the forward
 * pass: (cap, 3h) qkv, (cap, h) ctx and tmp, (cap, I) inter, attention
 * scratch, and the span's row offsets. */
typedef struct bert_ws {
    float  *qkv, *ctx, *tmp, *inter, *att;
    size_t  cap, att_cap;
    size_t *off;
    size_t  off_cap;
    cm_wscratch lin;   /* the low-precision products' scratch (--dtype bf16/int8) */
} bert_ws;

static void ws_free(bert_ws *w) {
    free(w->qkv); free(w->ctx); free(w->tmp); free(w->inter); free(w->att); free(w->off);
    cm_wscratch_free(&w->lin);
    memset(w, 0, sizeof *w);
}

static void bert_free(void *state) {
    bert *m = state;
    if (!m) return;
    free(m->word);
    free(m->pos);
    free(m->type0);
    free(m->emb_ln_g);
    free(m->emb_ln_b);
    for (int64_t i = 0; m->layers && i < m->cfg.n_layers; i++) {
        bert_layer *l = &m->layers[i];
        free(l->wqkv); free(l->bqkv); free(l->wo); free(l->bo); free(l->ln1_g); free(l->ln1_b);
        free(l->wi); free(l->bi); free(l->wo2); free(l->bo2); free(l->ln2_g); free(l->ln2_b);
        cm_wmat_free(&l->q_qkv); cm_wmat_free(&l->q_o); cm_wmat_free(&l->q_i); cm_wmat_free(&l->q_o2);
    }
    free(m->layers);
    free(m->rel_bias);
    free(m->bucket);
    for (int i = 0; i < m->n_ws; i++) ws_free(&m->ws[i]);
    free(m->ws);
    free(m);
}

/* MPNet / T5 bidirectional bucket of a relative position (key - query),
 * num_buckets 32, max_distance 128, computed exactly in integers: for
 * |r| >= 8, 8 + floor(8 * log(|r| / 8) / log(16)) = 8 + floor(log2(r^2 / 64)). */
static int32_t rel_bucket(int64_t rel, int64_t num_buckets) {
    int64_t nb = num_buckets / 2, ret = 0;
    int64_t n = -rel;
    if (n < 0) ret += nb;
    if (n < 0) n = -n;
    int64_t max_exact = nb / 2;
    if (n < max_exact) return (int32_t)(ret + n);
    /* val = max_exact + floor(log(n / max_exact) / log(128 / max_exact) * (nb - max_exact)) */
    double v = log((double)n / (double)max_exact) / log(128.0 / (double)max_exact) * (double)(nb - max_exact);
    int64_t k = (int64_t)v;
    if (max_exact == 8 && nb == 16) {
        /* exact: largest k with 64 * 2^k <= n^2 */
        k = 0;
        while (k < 62 && (int64_t)64 << (k + 1) <= n * n) k++;
    }
    int64_t val = max_exact + k;
    if (val > nb - 1) val = nb - 1;
    return (int32_t)(ret + val);
}

static int bert_load(void **state, const cm_hf_config *cfg, const cJSON *config, const cm_safetensors *st,
                     const char *dir) {
    *state = NULL;
    bert *m = cm_calloc(1, sizeof *m);
    if (!m) return CM_ERR_NOMEM;
    m->cfg = *cfg;
    m->kind = kind_of(cfg->model_type);
    m->act = (cm_act)cm_act_parse(cfg->hidden_act);
    int64_t h = cfg->hidden, I = cfg->intermediate;
    static const char *const prefixes[] = {"", "bert.", "roberta.", "mpnet.", "xlm-roberta.", "model.", "0.auto_model.",
                                           NULL};
    loader L = {st, NULL, dir};
    for (size_t i = 0; prefixes[i] && !L.prefix; i++) {
        char nm[256];
        snprintf(nm, sizeof nm, "%sembeddings.word_embeddings.weight", prefixes[i]);
        if (cm_st_find(st, nm)) L.prefix = prefixes[i];
    }
    int rc = CM_OK;
    if (!L.prefix) {
        rc = cm_error(CM_ERR_NOTFOUND, "%s: no 'embeddings.word_embeddings.weight' (also tried the bert., roberta., "
                      "mpnet. prefixes); is this a %s checkpoint?", cm_st_path(st), cfg->model_type);
        goto fail;
    }
    if ((rc = get(&L, "embeddings.word_embeddings.weight", 2, cfg->vocab_size, h, &m->word))) goto fail;
    if ((rc = get(&L, "embeddings.position_embeddings.weight", 2, cfg->max_positions, h, &m->pos))) goto fail;
    if (m->kind != BK_MPNET) {
        float *tt = NULL;
        if ((rc = get(&L, "embeddings.token_type_embeddings.weight", 2, cfg->type_vocab_size, h, &tt))) goto fail;
        m->type0 = cm_malloc((size_t)h * sizeof *m->type0);
        if (!m->type0) { free(tt); rc = CM_ERR_NOMEM; goto fail; }
        memcpy(m->type0, tt, (size_t)h * sizeof *m->type0);
        free(tt);
    }
    if ((rc = get(&L, "embeddings.LayerNorm.weight", 1, h, 0, &m->emb_ln_g))) goto fail;
    if ((rc = get(&L, "embeddings.LayerNorm.bias", 1, h, 0, &m->emb_ln_b))) goto fail;
    m->layers = cm_calloc((size_t)cfg->n_layers, sizeof *m->layers);
    if (!m->layers) { rc = CM_ERR_NOMEM; goto fail; }
    for (int64_t i = 0; i < cfg->n_layers; i++) {
        bert_layer *l = &m->layers[i];
        char n[256];
        l->wqkv = cm_malloc((size_t)(3 * h * h) * sizeof(float));
        l->bqkv = cm_malloc((size_t)(3 * h) * sizeof(float));
        if (!l->wqkv || !l->bqkv) { rc = CM_ERR_NOMEM; goto fail; }
        const char *qn[3] = {"query", "key", "value"}, *qm[3] = {"q", "k", "v"};
        for (int k = 0; k < 3; k++) {
            if (m->kind == BK_MPNET)
                snprintf(n, sizeof n, "encoder.layer.%lld.attention.attn.%s.weight", (long long)i, qm[k]);
            else snprintf(n, sizeof n, "encoder.layer.%lld.attention.self.%s.weight", (long long)i, qn[k]);
            if ((rc = get_into(&L, n, 2, h, h, l->wqkv + k * h * h))) goto fail;
            n[strlen(n) - 6] = '\0';
            strcat(n, "bias");
            if ((rc = get_into(&L, n, 1, h, 0, l->bqkv + k * h))) goto fail;
        }
#define LAYER(field, fmt_bert, fmt_mpnet, nd, a, b)                                                        \
        snprintf(n, sizeof n, m->kind == BK_MPNET ? fmt_mpnet : fmt_bert, (long long)i);                     \
        if ((rc = get(&L, n, nd, a, b, &l->field))) goto fail;
        LAYER(wo, "encoder.layer.%lld.attention.output.dense.weight", "encoder.layer.%lld.attention.attn.o.weight", 2,
              h, h)
        LAYER(bo, "encoder.layer.%lld.attention.output.dense.bias", "encoder.layer.%lld.attention.attn.o.bias", 1, h, 0)
        LAYER(ln1_g, "encoder.layer.%lld.attention.output.LayerNorm.weight",
              "encoder.layer.%lld.attention.LayerNorm.weight", 1, h, 0)
        LAYER(ln1_b, "encoder.layer.%lld.attention.output.LayerNorm.bias",
              "encoder.layer.%lld.attention.LayerNorm.bias", 1, h, 0)
        LAYER(wi, "encoder.layer.%lld.intermediate.dense.weight", "encoder.layer.%lld.intermediate.dense.weight", 2, I,
              h)
        LAYER(bi, "encoder.layer.%lld.intermediate.dense.bias", "encoder.layer.%lld.intermediate.dense.bias", 1, I, 0)
        LAYER(wo2, "encoder.layer.%lld.output.dense.weight", "encoder.layer.%lld.output.dense.weight", 2, h, I)
        LAYER(bo2, "encoder.layer.%lld.output.dense.bias", "encoder.layer.%lld.output.dense.bias", 1, h, 0)
        LAYER(ln2_g, "encoder.layer.%lld.output.LayerNorm.weight", "encoder.layer.%lld.output.LayerNorm.weight", 1, h,
              0)
        LAYER(ln2_b, "encoder.layer.%lld.output.LayerNorm.bias", "encoder.layer.%lld.output.LayerNorm.bias", 1, h, 0)
#undef LAYER
        cm_cpu_dtype dt = cfg->linear.dtype;
        if ((rc = cm_arch_prepare_f32(&l->wqkv, (size_t)(3 * h), (size_t)h, dt, &l->q_qkv)) ||
            (rc = cm_arch_prepare_f32(&l->wo, (size_t)h, (size_t)h, dt, &l->q_o)) ||
            (rc = cm_arch_prepare_f32(&l->wi, (size_t)I, (size_t)h, dt, &l->q_i)) ||
            (rc = cm_arch_prepare_f32(&l->wo2, (size_t)h, (size_t)I, dt, &l->q_o2)))
            goto fail;
    }
    if (m->kind == BK_MPNET) {
        int64_t nb = 32;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(config, "relative_attention_num_buckets");
        if (cJSON_IsNumber(v) && v->valueint > 1) nb = v->valueint;
        m->n_buckets = nb;
        if ((rc = get(&L, "encoder.relative_attention_bias.weight", 2, nb, cfg->n_heads, &m->rel_bias))) goto fail;
        int64_t P = cfg->max_positions;
        m->bucket = cm_malloc((size_t)(2 * P + 1) * sizeof *m->bucket);
        if (!m->bucket) { rc = CM_ERR_NOMEM; goto fail; }
        for (int64_t r = -P; r <= P; r++) m->bucket[r + P] = rel_bucket(r, nb);
    }
    *state = m;
    return CM_OK;
fail:
    bert_free(m);
    return rc;
}

/* ---- forward ------------------------------------------------------------- */

typedef struct mpnet_bias_ctx {
    const bert *m;
} mpnet_bias_ctx;

static void mpnet_bias(const void *ctx, size_t len, size_t head, size_t row, float *scores) {
    const bert *m = ((const mpnet_bias_ctx *)ctx)->m;
    const int32_t *bk = m->bucket + m->cfg.max_positions - (int64_t)row;   /* bk[j] = bucket(j - row) */
    size_t H = (size_t)m->cfg.n_heads;
    for (size_t j = 0; j < len; j++) scores[j] += m->rel_bias[(size_t)bk[j] * H + head];
}

/* Grows w to hold n_tokens rows, n_seqs offsets and att_floats attention scratch. */
static int ws_grow(const bert *m, bert_ws *w, size_t n_tokens, size_t n_seqs, size_t att_floats) {
    size_t h = (size_t)m->cfg.hidden, I = (size_t)m->cfg.intermediate;
    if (n_tokens > w->cap) {
        free(w->qkv); free(w->ctx); free(w->tmp); free(w->inter);
        w->qkv = cm_malloc(n_tokens * 3 * h * sizeof(float));
        w->ctx = cm_malloc(n_tokens * h * sizeof(float));
        w->tmp = cm_malloc(n_tokens * h * sizeof(float));
        w->inter = cm_malloc(n_tokens * I * sizeof(float));
        w->cap = n_tokens;
        if (!w->qkv || !w->ctx || !w->tmp || !w->inter) { ws_free(w); return CM_ERR_NOMEM; }
    }
    if (att_floats > w->att_cap) {
        free(w->att);
        w->att = cm_malloc(att_floats * sizeof(float));
        w->att_cap = w->att ? att_floats : 0;
        if (!w->att) return CM_ERR_NOMEM;
    }
    if (n_seqs > w->off_cap) {
        free(w->off);
        w->off = cm_malloc(n_seqs * sizeof *w->off);
        w->off_cap = w->off ? n_seqs : 0;
        if (!w->off) return CM_ERR_NOMEM;
    }
    return CM_OK;
}

static size_t bert_scratch_bytes(const void *state, size_t n_tokens, size_t max_len) {
    const bert *m = state;
    size_t h = (size_t)m->cfg.hidden, I = (size_t)m->cfg.intermediate;
    return n_tokens * (5 * h + I) * sizeof(float) +
           cm_ops_attention_scratch(h, (size_t)m->cfg.n_heads, max_len, 1) * sizeof(float);
}

/* Embeddings and every layer for sequences [s0, s1) of b (rows offset[s0]
 * onwards of x), with `threads` threads inside each op; w holds the span's
 * activations and must already be grown for it. */
static int forward_span(const bert *m, const cm_hf_batch *b, size_t s0, size_t s1, int causal, float *x,
                        bert_ws *w, int threads) {
    const cm_hf_config *c = &m->cfg;
    size_t h = (size_t)c->hidden, I = (size_t)c->intermediate, base = b->offset[s0];
    size_t n = b->offset[s1 - 1] + b->length[s1 - 1] - base, ns = s1 - s0;
    x += base * h;
    for (size_t s = s0; s < s1; s++) w->off[s - s0] = b->offset[s] - base;
    /* embeddings */
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (size_t s = s0; s < s1; s++) {
        int64_t p = m->kind == BK_BERT ? 0 : c->pad_token_id;   /* RoBERTa: cumsum of non-pad + padding_idx */
        for (size_t i = 0; i < b->length[s]; i++) {
            size_t t = b->offset[s] + i;
            int64_t pos;
            if (m->kind == BK_BERT) pos = (int64_t)i;
            else pos = b->ids[t] == c->pad_token_id ? c->pad_token_id : ++p;
            const float *we = m->word + (size_t)b->ids[t] * h, *pe = m->pos + (size_t)pos * h;
            float *xt = x + (t - base) * h;
            if (m->type0)
                for (size_t j = 0; j < h; j++) xt[j] = we[j] + pe[j] + m->type0[j];
            else
                for (size_t j = 0; j < h; j++) xt[j] = we[j] + pe[j];
        }
    }
    float eps = (float)c->norm_eps;
    cm_ops_add_layernorm(x, NULL, NULL, m->emb_ln_g, m->emb_ln_b, n, h, eps, threads);
    mpnet_bias_ctx bctx = {m};
    for (int64_t li = 0; li < c->n_layers; li++) {
        const bert_layer *l = &m->layers[li];
        const cm_wlinear_params *lp = &c->linear;
        CM_TRY(cm_arch_linear(x, h, l->wqkv, &l->q_qkv, l->bqkv, n, h, 3 * h, w->qkv, 3 * h, threads, lp, &w->lin));
        CM_TRY(cm_ops_attention(w->qkv, 3 * h, h, (size_t)c->n_heads, w->off, b->length + s0, ns, causal,
                                m->kind == BK_MPNET ? mpnet_bias : NULL, &bctx, w->ctx, w->att, threads));
        CM_TRY(cm_arch_linear(w->ctx, h, l->wo, &l->q_o, NULL, n, h, h, w->tmp, h, threads, lp, &w->lin));
        cm_ops_add_layernorm(x, w->tmp, l->bo, l->ln1_g, l->ln1_b, n, h, eps, threads);
        CM_TRY(cm_arch_linear(x, h, l->wi, &l->q_i, l->bi, n, h, I, w->inter, I, threads, lp, &w->lin));
        cm_ops_bias_act(w->inter, n, I, I, NULL, m->act, threads);
        CM_TRY(cm_arch_linear(w->inter, I, l->wo2, &l->q_o2, NULL, n, I, h, w->tmp, h, threads, lp, &w->lin));
        cm_ops_add_layernorm(x, w->tmp, l->bo2, l->ln2_g, l->ln2_b, n, h, eps, threads);
    }
    return CM_OK;
}

/* Spans of consecutive sequences of about SPAN_TOKENS tokens (a longer
 * sequence is a span of its own): small enough that one layer's activations
 * of a span stay in cache, large enough for sgemm to run near peak. */
enum { SPAN_TOKENS = 256 };

static int bert_forward(void *state, const cm_hf_batch *b, const cm_hf_forward_opts *o, float *x) {
    bert *m = state;
    const cm_hf_config *c = &m->cfg;
    size_t n = b->n_tokens, h = (size_t)c->hidden, H = (size_t)c->n_heads;
    int threads = o->threads > 0 ? o->threads : 1;
    int64_t pos_base = m->kind == BK_BERT ? 0 : c->pad_token_id + 1;
    size_t max_len = 0;
    for (size_t s = 0; s < b->n_seqs; s++) {
        if ((int64_t)b->length[s] + pos_base > c->max_positions)
            return cm_error(CM_ERR_ARG, "sequence of %zu tokens exceeds the model's %lld positions", b->length[s],
                            (long long)(c->max_positions - pos_base));
        max_len = b->length[s] > max_len ? b->length[s] : max_len;
    }
    for (size_t t = 0; t < n; t++)
        if (b->ids[t] < 0 || b->ids[t] >= c->vocab_size)
            return cm_error(CM_ERR_ARG, "token id %d outside the vocabulary (%lld)", b->ids[t],
                            (long long)c->vocab_size);
    if (!b->n_seqs) return CM_OK;
    /* span boundaries: span k covers sequences [start[k], start[k + 1]) */
    size_t *start = cm_malloc((b->n_seqs + 1) * sizeof *start), n_spans = 0, span_cap = 0;
    if (!start) return CM_ERR_NOMEM;
    for (size_t s = 0, tok = 0; s < b->n_seqs; s++) {
        if (s == 0 || tok + b->length[s] > SPAN_TOKENS) {
            if (n_spans) span_cap = tok > span_cap ? tok : span_cap;
            start[n_spans++] = s;
            tok = 0;
        }
        tok += b->length[s];
        if (s + 1 == b->n_seqs) span_cap = tok > span_cap ? tok : span_cap;
    }
    start[n_spans] = b->n_seqs;
    /* Many spans: each thread runs whole spans through all layers with
     * single-threaded ops (no barrier per op, activations in cache). Few:
     * the whole batch as one span, threads splitting every op. */
    int parallel = threads > 1 && n_spans >= 2 * (size_t)threads;
    int n_ws = parallel ? threads : 1;
    if (n_ws > m->n_ws) {
        bert_ws *nw = cm_realloc(m->ws, (size_t)n_ws * sizeof *nw);
        if (!nw) { free(start); return CM_ERR_NOMEM; }
        memset(nw + m->n_ws, 0, (size_t)(n_ws - m->n_ws) * sizeof *nw);
        m->ws = nw;
        m->n_ws = n_ws;
    }
    int rc = CM_OK;
    int blas_prev = cm_ops_blas_single();   /* one thread pool: OpenMP; BLAS calls are single-threaded */
    int causal = o->attention == CM_ATTN_CAUSAL;
    if (!parallel) {
        rc = ws_grow(m, &m->ws[0], n, b->n_seqs, cm_ops_attention_scratch(h, H, max_len, threads));
        if (rc == CM_OK) rc = forward_span(m, b, 0, b->n_seqs, causal, x, &m->ws[0], threads);
    } else {
#pragma omp parallel num_threads(threads)
        {
            bert_ws *w = &m->ws[omp_get_thread_num()];
            int trc = ws_grow(m, w, span_cap, span_cap, cm_ops_attention_scratch(h, H, max_len, 1));
            /* longest spans first (sequences come sorted by length) */
#pragma omp for schedule(dynamic, 1)
            for (size_t k = 0; k < n_spans; k++) {
                size_t sk = n_spans - 1 - k;
                if (trc == CM_OK) trc = forward_span(m, b, start[sk], start[sk + 1], causal, x, w, 1);
            }
            if (trc != CM_OK) {
#pragma omp critical(bert_forward_rc)
                rc = rc ? rc : trc;
            }
        }
    }
    cm_ops_set_threads(blas_prev);
    free(start);
    return rc;
}

const cm_hf_arch cm_hf_arch_bert = {
    .name = "bert",
    .model_types = bert_types,
    .read_config = bert_read_config,
    .footprint = bert_footprint,
    .load = bert_load,
    .forward = bert_forward,
    .scratch_bytes = bert_scratch_bytes,
    .free = bert_free,
};
