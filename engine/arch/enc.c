/*
 * enc.c: implements the shared part of enc.h: state allocation and release,
 * weight and config.json helpers, ALiBi slopes, and the forward pass of the
 * NomicBert / JinaBert / ModernBERT encoders over a packed batch (the whole
 * batch at once, threads splitting every operation).
 */
#include "engine/arch/enc.h"

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/arch/decoder_ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

cm_enc *cm_enc_alloc(const cm_hf_config *cfg, const char *family) {
    cm_enc *m = cm_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cfg = *cfg;
    m->family = family;
    size_t h = (size_t)cfg->hidden, I2 = 2 * (size_t)cfg->intermediate;
    m->zeros = cm_calloc(h > I2 ? h : I2, sizeof *m->zeros);
    m->layers = cm_calloc((size_t)cfg->n_layers, sizeof *m->layers);
    if (!m->zeros || !m->layers) {
        cm_enc_free(m);
        return NULL;
    }
    return m;
}

void cm_enc_free(void *state) {
    cm_enc *m = state;
    if (!m) return;
    free(m->word); free(m->type0); free(m->emb_ln_g); free(m->emb_ln_b); free(m->final_g); free(m->final_b);
    for (int64_t i = 0; m->layers && i < m->cfg.n_layers; i++) {
        cm_enc_layer *l = &m->layers[i];
        free(l->wqkv); free(l->bqkv); free(l->wo); free(l->bo); free(l->ln1_g);
        if (l->ln1_b != m->zeros) free(l->ln1_b);
        free(l->wi); free(l->bi); free(l->wo2); free(l->bo2); free(l->ln2_g);
        if (l->ln2_b != m->zeros) free(l->ln2_b);
        cm_wmat_free(&l->q_qkv); cm_wmat_free(&l->q_o); cm_wmat_free(&l->q_i); cm_wmat_free(&l->q_o2);
    }
    cm_wscratch_free(&m->lin);
    free(m->layers);
    free(m->zeros);
    free(m->slopes);
    free(m->cos_g); free(m->sin_g); free(m->cos_l); free(m->sin_l);
    free(m->x2); free(m->qkv); free(m->ctx); free(m->tmp); free(m->inter); free(m->att); free(m->pos);
    free(m);
}

/* ---- weights and config ---------------------------------------------------- */

int cm_enc_get(const cm_enc_loader *L, const char *name, int ndim, int64_t d0, int64_t d1, int optional,
               float **out) {
    *out = NULL;
    char full[512];
    snprintf(full, sizeof full, "%s%s", L->prefix, name);
    const cm_st_tensor *t = cm_st_find(L->st, full);
    if (!t) {
        if (optional) return CM_OK;
        return cm_error(CM_ERR_NOTFOUND, "%s: tensor '%s' not found (expected by the %s architecture)",
                        cm_st_path(L->st), full, L->family);
    }
    int64_t shape[2] = {d0, d1};
    CM_TRY(cm_st_check_shape(t, ndim, shape));
    return cm_st_to_f32(t, out);
}

const char *cm_enc_find_prefix(const cm_safetensors *st, const char *probe) {
    static const char *const prefixes[] = {"", "model.", "bert.", "0.auto_model.", "encoder.", NULL};
    for (size_t i = 0; prefixes[i]; i++) {
        char nm[512];
        snprintf(nm, sizeof nm, "%s%s", prefixes[i], probe);
        if (cm_st_find(st, nm)) return prefixes[i];
    }
    return NULL;
}

int cm_enc_cfg_int(const cJSON *c, const char *dir, const char *key, int64_t dflt, int required, int64_t *out) {
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

int cm_enc_cfg_num(const cJSON *c, const char *dir, const char *key, double dflt, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    if (!v || cJSON_IsNull(v)) {
        *out = dflt;
        return CM_OK;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return cm_error(CM_ERR_FORMAT, "%s/config.json: field '%s': expected a number", dir, key);
    *out = v->valuedouble;
    return CM_OK;
}

int cm_enc_cfg_bool(const cJSON *c, const char *dir, const char *key, int dflt, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    if (!v || cJSON_IsNull(v)) {
        *out = dflt;
        return CM_OK;
    }
    if (!cJSON_IsBool(v))
        return cm_error(CM_ERR_FORMAT, "%s/config.json: field '%s': expected true or false", dir, key);
    *out = cJSON_IsTrue(v);
    return CM_OK;
}

int cm_enc_cfg_finish(cm_hf_config *cfg, const char *dir, const char *eps_key) {
    if (cfg->hidden <= 0 || cfg->n_heads <= 0 || cfg->hidden % cfg->n_heads || cfg->n_layers <= 0 ||
        cfg->vocab_size <= 0 || cfg->intermediate <= 0 || cfg->max_positions <= 0)
        return cm_error(CM_ERR_FORMAT, "%s/config.json: inconsistent sizes (hidden size %lld must be a positive "
                        "multiple of the head count %lld; layers, vocab, intermediate, positions > 0)", dir,
                        (long long)cfg->hidden, (long long)cfg->n_heads);
    cfg->n_kv_heads = cfg->n_heads;
    cfg->head_dim = cfg->hidden / cfg->n_heads;
    cfg->out_dim = cfg->hidden;
    cfg->default_attention = CM_ATTN_BIDIRECTIONAL;
    char where[4200];
    snprintf(where, sizeof where, "%s/config.json", dir);
    return cm_hf_config_check_limits(cfg, where, eps_key);
}

void cm_enc_alibi_slopes(size_t n, float *out) {
    size_t p = 1;
    while (p * 2 <= n) p *= 2;
    for (size_t i = 0; i < p; i++) out[i] = (float)pow(2.0, -8.0 * (double)(i + 1) / (double)p);
    /* the rest: slopes of 2p heads at odd positions 2^(-8(2k+1)/(2p)) */
    for (size_t k = 0; p + k < n; k++) out[p + k] = (float)pow(2.0, -8.0 * (double)(2 * k + 1) / (double)(2 * p));
}

/* ---- forward ------------------------------------------------------------------ */

typedef struct bias_ctx {
    const cm_enc *m;
    int           local;
} bias_ctx;

/* ALiBi: -slope * |i - j|; local layers: keys farther than the window get a
 * score of -1e30 (exp underflows to ~0; -inf would need care in max). */
static void enc_bias(const void *vctx, size_t len, size_t head, size_t row, float *scores) {
    const bias_ctx *c = vctx;
    const cm_enc *m = c->m;
    if (m->pos_kind == CM_ENC_ALIBI) {
        float sl = m->slopes[head];
        for (size_t j = 0; j < len; j++) scores[j] -= sl * (float)(j > row ? j - row : row - j);
    }
    if (c->local)
        for (size_t j = 0; j < len; j++)
            if ((j > row ? j - row : row - j) > m->window) scores[j] = -1e30f;
}

static int grow(float **p, size_t n) {
    free(*p);
    *p = cm_malloc(n * sizeof **p);
    return *p ? CM_OK : CM_ERR_NOMEM;
}

/* Activations for n_tokens rows and attention up to max_len tokens. */
static int ws_grow(cm_enc *m, size_t n, size_t max_len, int threads) {
    size_t h = (size_t)m->cfg.hidden, I = (size_t)m->cfg.intermediate;
    if (n > m->cap) {
        m->cap = 0;
        CM_TRY(grow(&m->x2, n * h));
        CM_TRY(grow(&m->qkv, n * 3 * h));
        CM_TRY(grow(&m->ctx, n * h));
        CM_TRY(grow(&m->tmp, n * h));
        CM_TRY(grow(&m->inter, n * 2 * I));
        free(m->pos);
        if (!(m->pos = cm_malloc(n * sizeof *m->pos))) return CM_ERR_NOMEM;
        m->cap = n;
    }
    size_t att = cm_ops_attention_scratch(h, (size_t)m->cfg.n_heads, max_len, threads);
    if (att > m->att_cap) {
        m->att_cap = 0;
        CM_TRY(grow(&m->att, att));
        m->att_cap = att;
    }
    if (m->pos_kind == CM_ENC_ROPE && max_len > m->rope_len) {
        size_t half = m->rot / 2;
        m->rope_len = 0;
        CM_TRY(grow(&m->cos_g, max_len * half));
        CM_TRY(grow(&m->sin_g, max_len * half));
        CM_TRY(grow(&m->cos_l, max_len * half));
        CM_TRY(grow(&m->sin_l, max_len * half));
        cm_dec_rope_table(m->theta_global, m->rot, max_len, m->cos_g, m->sin_g);
        cm_dec_rope_table(m->theta_local, m->rot, max_len, m->cos_l, m->sin_l);
        m->rope_len = max_len;
    }
    return CM_OK;
}

size_t cm_enc_scratch_bytes(const void *state, size_t n_tokens, size_t max_len) {
    const cm_enc *m = state;
    size_t h = (size_t)m->cfg.hidden, I = (size_t)m->cfg.intermediate;
    return n_tokens * (6 * h + 2 * I) * sizeof(float) + n_tokens * sizeof(size_t) +
           cm_ops_attention_scratch(h, (size_t)m->cfg.n_heads, max_len, 1) * sizeof(float);
}

/* Rotates the first m->rot dims of every head of q and k (columns [0, h)
 * and [h, 2h) of qkv, row stride 3h) by each row's position. */
static void rope(const cm_enc *m, float *qkv, size_t n, int local, int threads) {
    size_t h = (size_t)m->cfg.hidden, H = (size_t)m->cfg.n_heads, dh = h / H, half = m->rot / 2;
    const float *ct = local ? m->cos_l : m->cos_g, *stab = local ? m->sin_l : m->sin_g;
#pragma omp parallel for num_threads(threads) schedule(static) if (n * h > 32768)
    for (size_t t = 0; t < n; t++) {
        const float *c = ct + m->pos[t] * half, *s = stab + m->pos[t] * half;
        for (size_t hh = 0; hh < 2 * H; hh++) {   /* H query heads, then H key heads */
            float *a = qkv + t * 3 * h + hh * dh, *b = a + half;
            for (size_t i = 0; i < half; i++) {
                float x1 = a[i], x2 = b[i];
                a[i] = x1 * c[i] - x2 * s[i];
                b[i] = x2 * c[i] + x1 * s[i];
            }
        }
    }
}

/* inter (n, 2I): columns [0, I) = act(a + bi[0:I]) * (b + bi[I:2I]). */
static void glu(float *inter, size_t n, size_t I, const float *bi, cm_act act, int threads) {
    cm_ops_bias_act(inter, n, I, 2 * I, bi, act, threads);
#pragma omp parallel for num_threads(threads) schedule(static) if (n * I > 32768)
    for (size_t t = 0; t < n; t++) {
        float *a = inter + t * 2 * I, *b = a + I;
        if (bi)
            for (size_t j = 0; j < I; j++) a[j] *= b[j] + bi[I + j];
        else
            for (size_t j = 0; j < I; j++) a[j] *= b[j];
    }
}

/* x += bias (n rows of width d), bias may be NULL. */
static void add_bias(float *x, size_t n, size_t d, const float *bias) {
    if (!bias) return;
    for (size_t t = 0; t < n; t++)
        for (size_t j = 0; j < d; j++) x[t * d + j] += bias[j];
}

int cm_enc_prepare(cm_enc *m) {
    size_t h = (size_t)m->cfg.hidden, I = (size_t)m->cfg.intermediate;
    cm_cpu_dtype dt = m->cfg.linear.dtype;
    for (int64_t i = 0; dt != CM_CPU_FP32 && i < m->cfg.n_layers; i++) {
        cm_enc_layer *l = &m->layers[i];
        CM_TRY(cm_arch_prepare_f32(&l->wqkv, 3 * h, h, dt, &l->q_qkv));
        CM_TRY(cm_arch_prepare_f32(&l->wo, h, h, dt, &l->q_o));
        CM_TRY(cm_arch_prepare_f32(&l->wi, 2 * I, h, dt, &l->q_i));
        CM_TRY(cm_arch_prepare_f32(&l->wo2, h, I, dt, &l->q_o2));
    }
    return CM_OK;
}

int cm_enc_forward(void *state, const cm_hf_batch *b, const cm_hf_forward_opts *o, float *x) {
    cm_enc *m = state;
    const cm_hf_config *c = &m->cfg;
    size_t n = b->n_tokens, h = (size_t)c->hidden, I = (size_t)c->intermediate, H = (size_t)c->n_heads;
    int threads = o->threads > 0 ? o->threads : 1;
    size_t max_len = 0;
    for (size_t s = 0; s < b->n_seqs; s++) {
        if ((int64_t)b->length[s] > c->max_positions)
            return cm_error(CM_ERR_ARG, "sequence of %zu tokens exceeds the model's %lld positions", b->length[s],
                            (long long)c->max_positions);
        max_len = b->length[s] > max_len ? b->length[s] : max_len;
    }
    for (size_t t = 0; t < n; t++)
        if (b->ids[t] < 0 || b->ids[t] >= c->vocab_size)
            return cm_error(CM_ERR_ARG, "token id %d outside the vocabulary (%lld)", b->ids[t],
                            (long long)c->vocab_size);
    if (!b->n_seqs) return CM_OK;
    CM_TRY(ws_grow(m, n, max_len, threads));
    for (size_t s = 0; s < b->n_seqs; s++)
        for (size_t i = 0; i < b->length[s]; i++) m->pos[b->offset[s] + i] = i;
    /* embeddings: word (+ token type 0), then the embedding norm */
    for (size_t t = 0; t < n; t++) {
        const float *we = m->word + (size_t)b->ids[t] * h;
        float *xt = x + t * h;
        if (m->type0)
            for (size_t j = 0; j < h; j++) xt[j] = we[j] + m->type0[j];
        else
            memcpy(xt, we, h * sizeof *xt);
    }
    float eps = (float)c->norm_eps;
    cm_ops_add_layernorm(x, NULL, NULL, m->emb_ln_g, m->emb_ln_b, n, h, eps, threads);
    int blas_prev = cm_ops_blas_single();
    int causal = o->attention == CM_ATTN_CAUSAL, rc = CM_OK;
    for (int64_t li = 0; li < c->n_layers && rc == CM_OK; li++) {
        const cm_enc_layer *l = &m->layers[li];
        bias_ctx bc = {m, l->local};
        const float *ain = x;
        if (m->prenorm && l->ln1_g) {
            cm_dec_layernorm(x, m->x2, l->ln1_g, l->ln1_b, n, h, eps, threads);
            ain = m->x2;
        }
        const cm_wlinear_params *lp = &c->linear;
        if ((rc = cm_arch_linear(ain, h, l->wqkv, &l->q_qkv, l->bqkv, n, h, 3 * h, m->qkv, 3 * h, threads, lp,
                                 &m->lin)))
            break;
        if (m->pos_kind == CM_ENC_ROPE) rope(m, m->qkv, n, l->local, threads);
        int need_bias = m->pos_kind == CM_ENC_ALIBI || l->local;
        rc = cm_ops_attention(m->qkv, 3 * h, h, H, b->offset, b->length, b->n_seqs, causal,
                              need_bias ? enc_bias : NULL, &bc, m->ctx, m->att, threads);
        if (rc) break;
        if ((rc = cm_arch_linear(m->ctx, h, l->wo, &l->q_o, NULL, n, h, h, m->tmp, h, threads, lp, &m->lin))) break;
        if (m->prenorm) {
            add_bias(m->tmp, n, h, l->bo);
            for (size_t k = 0; k < n * h; k++) x[k] += m->tmp[k];
            cm_dec_layernorm(x, m->x2, l->ln2_g, l->ln2_b, n, h, eps, threads);
            ain = m->x2;
        } else {
            cm_ops_add_layernorm(x, m->tmp, l->bo ? l->bo : m->zeros, l->ln1_g, l->ln1_b, n, h, eps, threads);
            ain = x;
        }
        if ((rc = cm_arch_linear(ain, h, l->wi, &l->q_i, NULL, n, h, 2 * I, m->inter, 2 * I, threads, lp, &m->lin)))
            break;
        glu(m->inter, n, I, l->bi, m->act, threads);
        if ((rc = cm_arch_linear(m->inter, 2 * I, l->wo2, &l->q_o2, NULL, n, I, h, m->tmp, h, threads, lp, &m->lin)))
            break;
        if (m->prenorm) {
            add_bias(m->tmp, n, h, l->bo2);
            for (size_t k = 0; k < n * h; k++) x[k] += m->tmp[k];
        } else {
            cm_ops_add_layernorm(x, m->tmp, l->bo2 ? l->bo2 : m->zeros, l->ln2_g, l->ln2_b, n, h, eps, threads);
        }
    }
    if (rc == CM_OK && m->final_g) cm_dec_layernorm(x, x, m->final_g, m->final_b, n, h, eps, threads);
    cm_ops_set_threads(blas_prev);
    return rc;
}
