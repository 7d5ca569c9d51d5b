/*
 * model.c: implements the architecture registry, packed batches and the
 * generic poolings of model.h (CLS, mean, last, weighted mean with optional
 * instruction exclusion).
 */
#include "engine/arch/model.h"

#include "engine/arch/enc.h"
#include "engine/nn/ops.h"

#include "cmteb/array.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const cm_hf_arch *const cm_hf_archs[] = {&cm_hf_arch_bert, &cm_hf_arch_decoder, &cm_hf_arch_nomic, &cm_hf_arch_jina,
                                         &cm_hf_arch_modernbert, &cm_hf_arch_t5, NULL};

int cm_hf_config_check_limits(const cm_hf_config *cfg, const char *where, const char *eps_key) {
    const struct { const char *key; int64_t v, max; } f[] = {
        {"hidden_size", cfg->hidden, (int64_t)1 << 17},
        {"num_hidden_layers", cfg->n_layers, 4096},
        {"num_attention_heads", cfg->n_heads, (int64_t)1 << 14},
        {"num_key_value_heads", cfg->n_kv_heads, (int64_t)1 << 14},
        {"head_dim", cfg->head_dim, (int64_t)1 << 17},
        {"intermediate_size", cfg->intermediate, (int64_t)1 << 20},
        {"vocab_size", cfg->vocab_size, (int64_t)1 << 24},
        {"max_position_embeddings", cfg->max_positions, (int64_t)1 << 24},
        {"type_vocab_size", cfg->type_vocab_size, (int64_t)1 << 16},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].v < 0 || f[i].v > f[i].max)
            return cm_error(CM_ERR_FORMAT, "%s: field '%s': %lld is outside the supported range 0..%lld", where,
                            f[i].key, (long long)f[i].v, (long long)f[i].max);
    if (!isfinite(cfg->norm_eps) || cfg->norm_eps <= 0 || cfg->norm_eps >= 1)
        return cm_error(CM_ERR_FORMAT, "%s: field '%s': %g is not a finite number in (0, 1)", where, eps_key,
                        cfg->norm_eps);
    return CM_OK;
}

int cm_hf_arch_find(const cJSON *config, const char *dir, const cm_hf_arch **out) {
    *out = NULL;
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(config, "model_type");
    if (!cJSON_IsString(mt))
        return cm_error(CM_ERR_FORMAT, "%s/config.json: field 'model_type': expected a string such as \"bert\"", dir);
    /* JinaBert (jina-embeddings-v2) says model_type "bert"; its ALiBi positions pick the arch */
    const cJSON *pet = cJSON_GetObjectItemCaseSensitive(config, "position_embedding_type");
    if (!strcmp(mt->valuestring, "bert") && cJSON_IsString(pet) && !strcmp(pet->valuestring, "alibi")) {
        *out = &cm_hf_arch_jina;
        return CM_OK;
    }
    for (size_t i = 0; cm_hf_archs[i]; i++)
        for (size_t k = 0; cm_hf_archs[i]->model_types[k]; k++)
            if (!strcmp(cm_hf_archs[i]->model_types[k], mt->valuestring)) {
                *out = cm_hf_archs[i];
                return CM_OK;
            }
    cm_str known = {0};
    for (size_t i = 0; cm_hf_archs[i]; i++)
        for (size_t k = 0; cm_hf_archs[i]->model_types[k]; k++) {
            if (known.len) cm_str_append(&known, ", ");
            cm_str_append(&known, cm_hf_archs[i]->model_types[k]);
        }
    const cJSON *arch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(config, "architectures"), 0);
    int rc = cm_error(
        CM_ERR_UNSUPPORTED,
        "%s/config.json: model_type '%s'%s%s%s is not supported by the native "
        "engine (supported model_type values: %s)",
        dir, mt->valuestring, cJSON_IsString(arch) ? " (architectures: " : "",
        cJSON_IsString(arch) ? arch->valuestring : "", cJSON_IsString(arch) ? ")" : "", known.s ? known.s : "");
    cm_str_free(&known);
    return rc;
}

/* ---- batch ---------------------------------------------------------------- */

void cm_hf_batch_clear(cm_hf_batch *b) {
    b->n_tokens = 0;
    b->n_seqs = 0;
}

int cm_hf_batch_add(cm_hf_batch *b, const int32_t *ids, size_t n, size_t n_instr) {
    if (n == 0) return cm_error(CM_ERR_ARG, "empty token sequence");
    CM_TRY(cm_array_reserve(b->ids, b->cap_tokens, b->n_tokens + n));
    CM_TRY(cm_array_reserve3(b->offset, b->length, b->n_instr, b->cap_seqs, b->n_seqs + 1));
    memcpy(b->ids + b->n_tokens, ids, n * sizeof *ids);
    b->offset[b->n_seqs] = b->n_tokens;
    b->length[b->n_seqs] = n;
    b->n_instr[b->n_seqs] = n_instr < n ? n_instr : n;
    b->n_seqs++;
    b->n_tokens += n;
    return CM_OK;
}

int cm_hf_batch_check(const cm_hf_batch *b, int64_t vocab_size, size_t *max_len) {
    *max_len = 0;
    for (size_t s = 0; s < b->n_seqs; s++) *max_len = b->length[s] > *max_len ? b->length[s] : *max_len;
    for (size_t i = 0; i < b->n_tokens; i++)
        if (b->ids[i] < 0 || b->ids[i] >= vocab_size)
            return cm_error(CM_ERR_ARG, "token id %d is outside the model's vocabulary (vocab_size %lld): tokenizer "
                            "and model do not match", b->ids[i], (long long)vocab_size);
    return CM_OK;
}

size_t cm_hf_batch_first_pooled(const cm_hf_batch *b, size_t s, int exclude_instr) {
    const size_t first = exclude_instr ? b->n_instr[s] : 0;
    return first < b->length[s] ? first : 0;
}

void cm_hf_batch_free(cm_hf_batch *b) {
    if (!b) return;
    free(b->ids);
    free(b->offset);
    free(b->length);
    free(b->n_instr);
    memset(b, 0, sizeof *b);
}

/* ---- pooling -------------------------------------------------------------- */

int cm_pool_parse(const char *s, cm_pool_kind *out) {
    static const struct { const char *n; cm_pool_kind k; } tab[] = {
        {"cls", CM_POOL_CLS},           {"cls_token", CM_POOL_CLS},       {"mean", CM_POOL_MEAN},
        {"mean_tokens", CM_POOL_MEAN},  {"last", CM_POOL_LAST},           {"lasttoken", CM_POOL_LAST},
        {"last_token", CM_POOL_LAST},   {"eos", CM_POOL_LAST},            {"weightedmean", CM_POOL_WEIGHTEDMEAN},
        {"weightedmean_tokens", CM_POOL_WEIGHTEDMEAN},                    {"latent", CM_POOL_LATENT},
        {"max", CM_POOL_MAX},           {"max_tokens", CM_POOL_MAX},      {"mean_sqrt_len", CM_POOL_MEAN_SQRT},
        {"mean_sqrt_len_tokens", CM_POOL_MEAN_SQRT},
        {"head", CM_POOL_HEAD},
        {"default", CM_POOL_DEFAULT},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(s, tab[i].n)) {
            *out = tab[i].k;
            return CM_OK;
        }
    return cm_error(CM_ERR_ARG, "unknown pooling '%s' (expected cls, mean, last, weightedmean, max, mean_sqrt_len, "
                    "latent or head)", s);
}

const char *cm_pool_name(cm_pool_kind k) {
    switch (k) {
    case CM_POOL_CLS: return "cls";
    case CM_POOL_MEAN: return "mean";
    case CM_POOL_LAST: return "last";
    case CM_POOL_WEIGHTEDMEAN: return "weightedmean";
    case CM_POOL_MAX: return "max";
    case CM_POOL_MEAN_SQRT: return "mean_sqrt_len";
    case CM_POOL_LATENT: return "latent";
    case CM_POOL_HEAD: return "head";
    default: return "default";
    }
}

int cm_hf_pool(const cm_hf_batch *b, const float *hidden, size_t d, const cm_pool_spec *spec, float *out) {
    for (size_t s = 0; s < b->n_seqs; s++) {
        const float *h = hidden + b->offset[s] * d;
        size_t len = b->length[s];
        float *o = out + s * d;
        switch (spec->kind) {
        case CM_POOL_CLS:
            memcpy(o, h, d * sizeof *o);
            break;
        case CM_POOL_LAST:
            memcpy(o, h + (len - 1) * d, d * sizeof *o);
            break;
        case CM_POOL_MAX: {
            const size_t first = cm_hf_batch_first_pooled(b, s, spec->exclude_instr);
            memcpy(o, h + first * d, d * sizeof *o);
            for (size_t t = first + 1; t < len; t++) {
                const float *ht = h + t * d;
                for (size_t j = 0; j < d; j++) o[j] = ht[j] > o[j] ? ht[j] : o[j];
            }
            break;
        }
        case CM_POOL_MEAN:
        case CM_POOL_MEAN_SQRT:
        case CM_POOL_WEIGHTEDMEAN: {
            const size_t first = cm_hf_batch_first_pooled(b, s, spec->exclude_instr);
            double *acc = cm_calloc(d, sizeof *acc);
            if (!acc) return CM_ERR_NOMEM;
            double wsum = 0;
            for (size_t t = first; t < len; t++) {
                /* sentence-transformers weightedmean: weight = position + 1 over the full sequence */
                double w = spec->kind == CM_POOL_WEIGHTEDMEAN ? (double)(t + 1) : 1.0;
                const float *ht = h + t * d;
                for (size_t j = 0; j < d; j++) acc[j] += w * ht[j];
                wsum += w;
            }
            /* sentence-transformers mean_sqrt_len_tokens: sum / sqrt(token count) */
            double div = spec->kind == CM_POOL_MEAN_SQRT ? sqrt(wsum) : wsum;
            for (size_t j = 0; j < d; j++) o[j] = (float)(acc[j] / div);
            free(acc);
            break;
        }
        default:
            return cm_error(CM_ERR_ARG, "pooling '%s' is not a generic pooling (the architecture provides it)",
                            cm_pool_name(spec->kind));
        }
        if (spec->normalize) cm_l2_normalize_rows(o, 1, d);
    }
    return CM_OK;
}

int cm_arch_prepare_f32(float **W, size_t rows, size_t cols, cm_cpu_dtype dt, cm_wmat *q) {
    memset(q, 0, sizeof *q);
    if (dt == CM_CPU_FP32 || !*W) return CM_OK;
    cm_wmat_wrap_f32(q, *W, rows, cols);
    int rc = cm_wmat_prepare(q, dt);
    if (rc) {
        memset(q, 0, sizeof *q);
        return rc;
    }
    free(*W);   /* q owns its copy now */
    *W = NULL;
    return CM_OK;
}

int cm_arch_linear(const float *x, size_t ldx, const float *W, const cm_wmat *q, const float *bias, size_t n,
                   size_t in, size_t out, float *y, size_t ldy, int threads, const cm_wlinear_params *lp,
                   cm_wscratch *ws) {
    if (q && q->data) return cm_wlinear_bias(x, ldx, q, bias, n, y, ldy, 0.0f, threads, lp, ws);
    cm_ops_linear_bias_mt(x, ldx, W, bias, n, in, out, y, ldy, threads);
    return CM_OK;
}
