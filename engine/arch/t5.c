/*
 * t5.c: T5 encoders (model_type "t5", encoder only: GTR, sentence-T5), the
 * architecture vtable cm_hf_arch_t5 (model.h).
 *
 *   x = shared[id]                                    no scaling, no positions
 *   per layer: x += Attn(RMS(x)) Wo^T                 T5 LayerNorm = RMS without bias or mean
 *              x += FF(RMS(x))                         relu: relu(t Wi^T) Wo^T (T5 v1.0);
 *                                                      gated-gelu: (gelu_new(t Wi0^T) * t Wi1^T) Wo^T (v1.1)
 *   x = RMS(x) (encoder.final_layer_norm)
 * Attention: scores = q.k (no 1/sqrt(d) scaling) + bias[head][bucket(key - query)], the bias table of
 * layer 0 (encoder.block.0.layer.0.SelfAttention.relative_attention_bias, (num_buckets, heads)) shared by
 * every layer; buckets are T5's bidirectional ones: half for keys after the query, exact up to
 * num_buckets / 4, then logarithmic up to relative_attention_max_distance.
 *
 * Ownership: t5_load allocates the model (weights borrow the checkpoint mapping where they can), t5_free
 * releases it.
 */
#include "engine/arch/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/arch/decoder_ops.h"
#include "engine/nn/bf16.h"

typedef struct t5_layer {
    cm_wmat q, k, v, o;          /* (inner, h) x3, (h, inner) */
    cm_wmat wi, wi1, wo;         /* (ff, h) [gated: wi = wi_0, wi1 = wi_1], (h, ff) */
    float  *ln_attn, *ln_ff;     /* (h) */
} t5_layer;

typedef struct t5_model {
    cm_hf_config cfg;
    int          gated;          /* feed_forward_proj "gated-*" */
    int          act;            /* 0 relu, 1 exact gelu, 2 gelu_new (tanh) */
    int64_t      n_buckets, max_distance;
    cm_wmat      embed;          /* (vocab, h) */
    float       *rel_bias;       /* (n_buckets, heads) */
    t5_layer    *layers;         /* (n_layers) */
    float       *final_norm;     /* (h) */
} t5_model;

/* ---- config.json ---------------------------------------------------------------------------- */
static int t5_int(const cJSON *c, const char *where, const char *key, int64_t dflt, int required, int64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return cm_error(CM_ERR_FORMAT, "%s: field '%s': expected a positive integer, found none", where, key);
        *out = dflt;
        return CM_OK;
    }
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1e9) ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return cm_error(CM_ERR_FORMAT, "%s: field '%s': expected a non-negative integer", where, key);
    *out = (int64_t)v->valuedouble;
    return CM_OK;
}

/* config.json -> cfg plus the T5-only fields (gated, act, buckets), all checked. */
static int t5_config(const cJSON *c, const char *dir, cm_hf_config *cfg, int *gated, int *act, int64_t *n_buckets,
                     int64_t *max_distance) {
    memset(cfg, 0, sizeof *cfg);
    char where[4200];
    snprintf(where, sizeof where, "%s/config.json", dir);
    snprintf(cfg->model_type, sizeof cfg->model_type, "t5");
    const cJSON *arch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "architectures"), 0);
    snprintf(cfg->architecture, sizeof cfg->architecture, "%s", cJSON_IsString(arch) ? arch->valuestring : "");
    CM_TRY(t5_int(c, where, "vocab_size", 0, 1, &cfg->vocab_size));
    CM_TRY(t5_int(c, where, "d_model", 0, 1, &cfg->hidden));
    CM_TRY(t5_int(c, where, "num_layers", 0, 1, &cfg->n_layers));
    CM_TRY(t5_int(c, where, "num_heads", 0, 1, &cfg->n_heads));
    CM_TRY(t5_int(c, where, "d_kv", 0, 1, &cfg->head_dim));
    CM_TRY(t5_int(c, where, "d_ff", 0, 1, &cfg->intermediate));
    CM_TRY(t5_int(c, where, "n_positions", 512, 0, &cfg->max_positions));
    CM_TRY(t5_int(c, where, "pad_token_id", 0, 0, &cfg->pad_token_id));
    CM_TRY(t5_int(c, where, "relative_attention_num_buckets", 32, 0, n_buckets));
    CM_TRY(t5_int(c, where, "relative_attention_max_distance", 128, 0, max_distance));
    cfg->n_kv_heads = cfg->n_heads;
    if (cfg->hidden <= 0 || cfg->n_layers <= 0 || cfg->n_heads <= 0 || cfg->head_dim <= 0 || cfg->intermediate <= 0 ||
        cfg->vocab_size <= 0)
        return cm_error(CM_ERR_FORMAT, "%s: d_model, num_layers, num_heads, d_kv, d_ff and vocab_size must be > 0",
                        where);
    if (*n_buckets < 2 || *n_buckets > 4096 || *max_distance < 1 || *max_distance > (1 << 24))
        return cm_error(CM_ERR_FORMAT, "%s: relative_attention_num_buckets %lld must be in 2..4096 and "
                        "relative_attention_max_distance %lld in 1..%d", where, (long long)*n_buckets,
                        (long long)*max_distance, 1 << 24);
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(c, "layer_norm_epsilon");
    cfg->norm_eps = cJSON_IsNumber(eps) ? eps->valuedouble : 1e-6;
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(c, "is_encoder_decoder");
    (void)dec;   /* encoder-decoder checkpoints carry a decoder too: only encoder.* is read */
    const cJSON *ff = cJSON_GetObjectItemCaseSensitive(c, "feed_forward_proj");
    const char *f = cJSON_IsString(ff) ? ff->valuestring : "relu";
    *gated = !strncmp(f, "gated-", 6);
    const char *a = *gated ? f + 6 : f;
    /* HF: "gated-gelu" means gelu_new (tanh); a plain "gelu" is the exact erf GELU */
    if (!strcmp(a, "relu")) *act = 0;
    else if (!strcmp(a, "gelu")) *act = *gated ? 2 : 1;
    else if (!strcmp(a, "gelu_new") || !strcmp(a, "gelu_pytorch_tanh")) *act = 2;
    else
        return cm_error(CM_ERR_UNSUPPORTED, "%s: field 'feed_forward_proj': '%s' is not supported (relu, gelu, "
                        "gated-gelu, gated-relu)", where, f);
    snprintf(cfg->hidden_act, sizeof cfg->hidden_act, "%s", *act == 0 ? "relu" : *act == 1 ? "gelu" : "gelu_new");
    CM_TRY(cm_hf_config_check_limits(cfg, where, "layer_norm_epsilon"));
    cfg->out_dim = cfg->hidden;
    cfg->default_attention = CM_ATTN_BIDIRECTIONAL;
    cfg->default_pool = CM_POOL_MEAN;   /* sentence-T5 / GTR: mean (the folder's Pooling module says so too) */
    return CM_OK;
}

static int v_read_config(const cJSON *config, const char *dir, cm_hf_config *cfg) {
    int g, a;
    int64_t nb, md;
    return t5_config(config, dir, cfg, &g, &a, &nb, &md);
}

static int64_t t5_params(const cm_hf_config *c, int gated, int64_t n_buckets) {
    int64_t h = c->hidden, inner = c->n_heads * c->head_dim, I = c->intermediate;
    int64_t layer = 4 * h * inner + (gated ? 3 : 2) * h * I + 2 * h;
    return c->vocab_size * h + c->n_layers * layer + n_buckets * c->n_heads + h;
}

static void v_footprint(const cm_hf_config *cfg, int64_t *n_params, int64_t *bytes) {
    *n_params = t5_params(cfg, strcmp(cfg->hidden_act, "relu") != 0, 32);
    *bytes = 4 * *n_params;
}

/* ---- weights ---------------------------------------------------------------------------------- */
static void t5_free(t5_model *m) {
    if (!m) return;
    cm_wmat_free(&m->embed);
    if (m->layers)
        for (int64_t i = 0; i < m->cfg.n_layers; i++) {
            t5_layer *l = &m->layers[i];
            cm_wmat *w[] = {&l->q, &l->k, &l->v, &l->o, &l->wi, &l->wi1, &l->wo};
            for (size_t k = 0; k < sizeof w / sizeof w[0]; k++) cm_wmat_free(w[k]);
            free(l->ln_attn);
            free(l->ln_ff);
        }
    free(m->layers);
    free(m->rel_bias);
    free(m->final_norm);
    free(m);
}

static int load_layer(t5_model *m, const cm_safetensors *st, int64_t i) {
    t5_layer *l = &m->layers[i];
    int64_t h = m->cfg.hidden, inner = m->cfg.n_heads * m->cfg.head_dim, I = m->cfg.intermediate;
    char n[256];
#define NAME(s) (snprintf(n, sizeof n, "encoder.block.%lld.%s", (long long)i, s), n)
    CM_TRY(cm_weight_vector(st, NAME("layer.0.layer_norm.weight"), h, &l->ln_attn));
    CM_TRY(cm_weight_matrix(st, NAME("layer.0.SelfAttention.q.weight"), inner, h, &l->q));
    CM_TRY(cm_weight_matrix(st, NAME("layer.0.SelfAttention.k.weight"), inner, h, &l->k));
    CM_TRY(cm_weight_matrix(st, NAME("layer.0.SelfAttention.v.weight"), inner, h, &l->v));
    CM_TRY(cm_weight_matrix(st, NAME("layer.0.SelfAttention.o.weight"), h, inner, &l->o));
    CM_TRY(cm_weight_vector(st, NAME("layer.1.layer_norm.weight"), h, &l->ln_ff));
    if (m->gated) {
        CM_TRY(cm_weight_matrix(st, NAME("layer.1.DenseReluDense.wi_0.weight"), I, h, &l->wi));
        CM_TRY(cm_weight_matrix(st, NAME("layer.1.DenseReluDense.wi_1.weight"), I, h, &l->wi1));
    } else {
        CM_TRY(cm_weight_matrix(st, NAME("layer.1.DenseReluDense.wi.weight"), I, h, &l->wi));
    }
    CM_TRY(cm_weight_matrix(st, NAME("layer.1.DenseReluDense.wo.weight"), h, I, &l->wo));
#undef NAME
    /* --dtype bf16/int8: the Linear matrices in the compute dtype (wi1 is empty when not gated) */
    cm_wmat *w[] = {&l->q, &l->k, &l->v, &l->o, &l->wi, &l->wi1, &l->wo};
    for (size_t k = 0; k < sizeof w / sizeof w[0]; k++)
        if (w[k]->data) CM_TRY(cm_wmat_prepare(w[k], m->cfg.linear.dtype));
    return CM_OK;
}

static int v_load(void **state, const cm_hf_config *cfg, const cJSON *config, const cm_safetensors *st,
                  const char *dir) {
    *state = NULL;
    t5_model *m = cm_calloc(1, sizeof *m);
    if (!m) return CM_ERR_NOMEM;
    int rc = t5_config(config, dir, &m->cfg, &m->gated, &m->act, &m->n_buckets, &m->max_distance);
    if (rc == CM_OK && (m->cfg.hidden != cfg->hidden || m->cfg.n_layers != cfg->n_layers))
        rc = cm_error(CM_ERR_INTERNAL, "%s: T5 config changed between read_config and load", dir);
    m->cfg.linear = cfg->linear;
    /* T5EncoderModel saves the tied embedding as shared.weight (encoder.embed_tokens.weight may repeat it) */
    const char *emb = cm_st_find(st, "shared.weight") ? "shared.weight" : "encoder.embed_tokens.weight";
    if (rc == CM_OK) rc = cm_weight_matrix(st, emb, m->cfg.vocab_size, m->cfg.hidden, &m->embed);
    if (rc == CM_OK && !(m->layers = cm_calloc((size_t)m->cfg.n_layers, sizeof *m->layers))) rc = CM_ERR_NOMEM;
    if (rc == CM_OK) {   /* (num_buckets, heads) of layer 0, shared by every layer */
        cm_wmat rb = {0};
        rc = cm_weight_matrix(st, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                              m->n_buckets, m->cfg.n_heads, &rb);
        if (rc == CM_OK && !(m->rel_bias = cm_malloc((size_t)(m->n_buckets * m->cfg.n_heads) * sizeof(float))))
            rc = CM_ERR_NOMEM;
        for (int64_t r = 0; rc == CM_OK && r < m->n_buckets; r++)
            cm_wmat_row(&rb, (size_t)r, m->rel_bias + r * m->cfg.n_heads);
        cm_wmat_free(&rb);
    }
    for (int64_t i = 0; rc == CM_OK && i < m->cfg.n_layers; i++) rc = load_layer(m, st, i);
    if (rc == CM_OK) rc = cm_weight_vector(st, "encoder.final_layer_norm.weight", m->cfg.hidden, &m->final_norm);
    if (rc != CM_OK) {
        t5_free(m);
        return rc;
    }
    *state = m;
    return CM_OK;
}

/* ---- forward ----------------------------------------------------------------------------------- */
/* T5's bidirectional bucket of relative position rel = key - query: keys after the query take the upper half;
 * |rel| < nb/4 (nb = n_buckets / 2) exact, beyond that logarithmic up to max_distance, clipped to the half's last
 * bucket. Computed in float32 like HF (the log ratio truncated toward zero). */
static int64_t t5_bucket(int64_t rel, int64_t n_buckets, int64_t max_distance) {
    int64_t nb = n_buckets / 2, ret = rel > 0 ? nb : 0, n = rel < 0 ? -rel : rel, max_exact = nb / 2;
    if (n < max_exact) return ret + n;
    float v = logf((float)n / (float)max_exact) / (float)log((double)max_distance / (double)max_exact) *
              (float)(nb - max_exact);
    int64_t val = max_exact + (int64_t)v;
    return ret + (val < nb - 1 ? val : nb - 1);
}

static int v_forward(void *state, const cm_hf_batch *b, const cm_hf_forward_opts *fo, float *x) {
    const t5_model *m = state;
    const cm_hf_config *c = &m->cfg;
    size_t N = b->n_tokens, h = (size_t)c->hidden, hd = (size_t)c->head_dim, nh = (size_t)c->n_heads;
    size_t inner = nh * hd, I = (size_t)c->intermediate;
    int threads = fo->threads < 1 ? 1 : fo->threads;
    float eps = (float)c->norm_eps;
    if (N == 0) return CM_OK;
    size_t max_len;
    CM_TRY(cm_hf_batch_check(b, c->vocab_size, &max_len));
    size_t span = 2 * max_len - 1;
    float *t = cm_malloc(N * h * sizeof(float));
    float *q = cm_malloc(N * inner * sizeof(float));
    float *k = cm_malloc(N * inner * sizeof(float));
    float *v = cm_malloc(N * inner * sizeof(float));
    float *att = cm_malloc(N * inner * sizeof(float));
    float *g = cm_malloc(N * I * sizeof(float));
    float *u = m->gated ? cm_malloc(N * I * sizeof(float)) : NULL;
    float *bias = cm_malloc(nh * span * sizeof(float));   /* (heads, 2 max_len - 1) by relative position */
    cm_wscratch ws = {0};
    int rc = CM_OK;
    if (!t || !q || !k || !v || !att || !g || (m->gated && !u) || !bias) rc = CM_ERR_NOMEM;
    if (rc == CM_OK) {
        for (size_t r = 0; r < span; r++) {
            int64_t bk = t5_bucket((int64_t)r - (int64_t)(max_len - 1), m->n_buckets, m->max_distance);
            for (size_t hh = 0; hh < nh; hh++) bias[hh * span + r] = m->rel_bias[(size_t)bk * nh + hh];
        }
        for (size_t i = 0; i < N; i++) cm_wmat_row(&m->embed, (size_t)b->ids[i], x + i * h);
    }
    cm_dec_attn_opts ao = {0};
    ao.scale = 1.0f;
    ao.causal = fo->attention == CM_ATTN_CAUSAL;
    ao.rel_bias = bias;
    ao.rel_span = max_len;
    const cm_wlinear_params *lp = &m->cfg.linear;
    for (int64_t li = 0; rc == CM_OK && li < c->n_layers; li++) {
        const t5_layer *L = &m->layers[li];
        cm_dec_rmsnorm(x, t, L->ln_attn, N, h, eps, threads);
        if ((rc = cm_wlinear(t, h, &L->q, N, q, inner, 0.0f, threads, lp, &ws)) != CM_OK) break;
        if ((rc = cm_wlinear(t, h, &L->k, N, k, inner, 0.0f, threads, lp, &ws)) != CM_OK) break;
        if ((rc = cm_wlinear(t, h, &L->v, N, v, inner, 0.0f, threads, lp, &ws)) != CM_OK) break;
        if ((rc = cm_dec_attention_ex(q, inner, k, v, inner, att, inner, nh, nh, hd, b->offset, b->length, b->n_seqs,
                                      &ao, threads)) != CM_OK)
            break;
        if ((rc = cm_wlinear(att, inner, &L->o, N, x, h, 1.0f, threads, lp, &ws)) != CM_OK) break;
        cm_dec_rmsnorm(x, t, L->ln_ff, N, h, eps, threads);
        if ((rc = cm_wlinear(t, h, &L->wi, N, g, I, 0.0f, threads, lp, &ws)) != CM_OK) break;
        if (m->gated) {
            if ((rc = cm_wlinear(t, h, &L->wi1, N, u, I, 0.0f, threads, lp, &ws)) != CM_OK) break;
            if (m->act == 0) {
                cm_dec_relu(g, N, I, threads);
                for (size_t i = 0; i < N * I; i++) g[i] *= u[i];
            } else {
                cm_dec_gelu_gate(g, u, N, I, m->act == 2, threads);
            }
        } else if (m->act == 0) {
            cm_dec_relu(g, N, I, threads);
        } else {
            cm_dec_gelu_gate(g, NULL, N, I, m->act == 2, threads);
        }
        if ((rc = cm_wlinear(g, I, &L->wo, N, x, h, 1.0f, threads, lp, &ws)) != CM_OK) break;
    }
    if (rc == CM_OK) cm_dec_rmsnorm(x, x, m->final_norm, N, h, eps, threads);
    cm_wscratch_free(&ws);
    free(t); free(q); free(k); free(v); free(att); free(g); free(u); free(bias);
    return rc;
}

static size_t v_scratch(const void *state, size_t n_tokens, size_t max_len) {
    const t5_model *m = state;
    size_t h = (size_t)m->cfg.hidden, inner = (size_t)(m->cfg.n_heads * m->cfg.head_dim);
    size_t I = (size_t)m->cfg.intermediate;
    return 4 * (n_tokens * (h + 4 * inner + 2 * I) + (size_t)m->cfg.n_heads * 2 * max_len + 64 * max_len * 2);
}

static void v_free(void *state) { t5_free(state); }

static const char *const t5_types[] = {"t5", NULL};

const cm_hf_arch cm_hf_arch_t5 = {
    .name = "t5",
    .model_types = t5_types,
    .read_config = v_read_config,
    .footprint = v_footprint,
    .load = v_load,
    .forward = v_forward,
    .scratch_bytes = v_scratch,
    .free = v_free,
};
