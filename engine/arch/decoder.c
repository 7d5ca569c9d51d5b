/* decoder.c: config.json reading, parameter count, weight loading and the architecture vtable
 * (cm_hf_arch_decoder) of the decoder-LLM embedders: llama, mistral, qwen2, qwen3, nvembed. */
#include "engine/arch/decoder.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmteb/status.h"
#include "cmteb/util.h"

/* ---- config.json ------------------------------------------------------------------ */
static int get_int(const cJSON *c, const char *where, const char *key, int64_t dflt, int required, int64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return cm_error(CM_ERR_FORMAT, "%s: field '%s': expected a positive integer, found none", where, key);
        *out = dflt;
        return CM_OK;
    }
    /* the range check first: converting an out-of-range double to int64_t is undefined */
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1e15) ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return cm_error(CM_ERR_FORMAT, "%s: field '%s': expected a non-negative integer", where, key);
    *out = (int64_t)v->valuedouble;
    return CM_OK;
}
static int get_num(const cJSON *c, const char *where, const char *key, double dflt, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    if (!v || cJSON_IsNull(v)) { *out = dflt; return CM_OK; }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble <= 0)
        return cm_error(CM_ERR_FORMAT, "%s: field '%s': expected a finite positive number", where, key);
    *out = v->valuedouble;
    return CM_OK;
}
static int get_bool(const cJSON *c, const char *where, const char *key, int dflt, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    if (!v || cJSON_IsNull(v)) { *out = dflt; return CM_OK; }
    if (!cJSON_IsBool(v)) return cm_error(CM_ERR_FORMAT, "%s: field '%s': expected true or false", where, key);
    *out = cJSON_IsTrue(v);
    return CM_OK;
}

int cm_dec_read_config(const cJSON *c, const char *dir, cm_hf_config *cfg, cm_dec_config *dc) {
    memset(cfg, 0, sizeof *cfg);
    memset(dc, 0, sizeof *dc);
    char where[4200];
    snprintf(where, sizeof where, "%s/config.json", dir);
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(c, "model_type");
    const char *type = cJSON_IsString(mt) ? mt->valuestring : "";
    snprintf(cfg->model_type, sizeof cfg->model_type, "%s", type);
    const cJSON *arch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "architectures"), 0);
    snprintf(cfg->architecture, sizeof cfg->architecture, "%s", cJSON_IsString(arch) ? arch->valuestring : "");
    const cJSON *tc = c;
    dc->prefix = "model.";
    if (!strcmp(type, "nvembed")) {
        dc->nvembed = 1;
        dc->prefix = "embedding_model.";
        tc = cJSON_GetObjectItemCaseSensitive(c, "text_config");
        if (!cJSON_IsObject(tc))
            return cm_error(CM_ERR_FORMAT, "%s: field 'text_config': expected the Mistral config object of NV-Embed",
                            where);
        snprintf(where, sizeof where, "%s/config.json: text_config", dir);
        const cJSON *la = cJSON_GetObjectItemCaseSensitive(c, "latent_attention_config");
        if (la && !cJSON_IsObject(la))
            return cm_error(CM_ERR_FORMAT, "%s/config.json: field 'latent_attention_config': expected an object", dir);
        char lw[4200];
        snprintf(lw, sizeof lw, "%s/config.json: latent_attention_config", dir);
        /* LatentAttentionConfig defaults; explicit fields win (small test models give them) */
        CM_TRY(get_int(la, lw, "num_latents_value", 512, 0, &dc->lat.n_latents));
        CM_TRY(get_int(la, lw, "num_cross_heads", 8, 0, &dc->lat.heads));
        CM_TRY(get_int(la, lw, "hidden_dim", 4096, 0, &dc->lat.hidden));
        CM_TRY(get_int(la, lw, "latent_dim", 4096, 0, &dc->lat.latent_dim));
        CM_TRY(get_int(la, lw, "cross_dim_head", 4096, 0, &dc->lat.head_dim));
        CM_TRY(get_bool(la, lw, "output_normalize", 1, &dc->lat.normalize));
        if (dc->lat.n_latents <= 0 || dc->lat.heads <= 0 || dc->lat.head_dim <= 0)
            return cm_error(CM_ERR_FORMAT, "%s: num_latents_value, num_cross_heads and cross_dim_head must be > 0", lw);
        const struct { const char *key; int64_t v; } lf[] = {{"num_latents_value", dc->lat.n_latents},
            {"num_cross_heads", dc->lat.heads}, {"hidden_dim", dc->lat.hidden},
            {"latent_dim", dc->lat.latent_dim}, {"cross_dim_head", dc->lat.head_dim}};
        for (size_t i = 0; i < sizeof lf / sizeof lf[0]; i++)
            if (lf[i].v > ((int64_t)1 << 17))
                return cm_error(CM_ERR_FORMAT, "%s: field '%s': %lld is outside the supported range 0..%lld", lw,
                                lf[i].key, (long long)lf[i].v, (long long)((int64_t)1 << 17));
    }
    CM_TRY(get_int(tc, where, "vocab_size", 0, 1, &cfg->vocab_size));
    CM_TRY(get_int(tc, where, "hidden_size", 0, 1, &cfg->hidden));
    CM_TRY(get_int(tc, where, "num_hidden_layers", 0, 1, &cfg->n_layers));
    CM_TRY(get_int(tc, where, "num_attention_heads", 0, 1, &cfg->n_heads));
    CM_TRY(get_int(tc, where, "num_key_value_heads", cfg->n_heads, 0, &cfg->n_kv_heads));
    CM_TRY(get_int(tc, where, "intermediate_size", 0, 1, &cfg->intermediate));
    CM_TRY(get_int(tc, where, "max_position_embeddings", 4096, 0, &cfg->max_positions));
    CM_TRY(get_int(tc, where, "pad_token_id", -1, 0, &cfg->pad_token_id));
    if (cfg->hidden <= 0 || cfg->n_heads <= 0 || cfg->n_kv_heads <= 0 || cfg->n_layers <= 0 || cfg->vocab_size <= 0 ||
        cfg->intermediate <= 0 || cfg->n_heads % cfg->n_kv_heads)
        return cm_error(
            CM_ERR_FORMAT,
            "%s: inconsistent sizes (hidden_size, num_hidden_layers, vocab_size, "
            "intermediate_size > 0; num_attention_heads %lld must be a multiple of num_key_value_heads %lld)",
            where, (long long)cfg->n_heads, (long long)cfg->n_kv_heads);
    const cJSON *hd = cJSON_GetObjectItemCaseSensitive(tc, "head_dim");
    if (hd && !cJSON_IsNull(hd)) CM_TRY(get_int(tc, where, "head_dim", 0, 1, &cfg->head_dim));
    else if (cfg->hidden % cfg->n_heads)
        return cm_error(CM_ERR_FORMAT, "%s: hidden_size %lld is not a multiple of num_attention_heads %lld and no "
                        "head_dim is given", where, (long long)cfg->hidden, (long long)cfg->n_heads);
    else cfg->head_dim = cfg->hidden / cfg->n_heads;
    if (cfg->head_dim <= 0 || cfg->head_dim % 2)
        return cm_error(CM_ERR_FORMAT, "%s: head_dim %lld must be positive and even (rotary pairs)", where,
                        (long long)cfg->head_dim);
    CM_TRY(get_num(tc, where, "rms_norm_eps", 1e-6, &cfg->norm_eps));
    CM_TRY(get_num(tc, where, "rope_theta", 10000.0, &dc->rope_theta));
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(tc, "hidden_act");
    snprintf(cfg->hidden_act, sizeof cfg->hidden_act, "%s", cJSON_IsString(act) ? act->valuestring : "silu");
    if (strcmp(cfg->hidden_act, "silu") != 0 && strcmp(cfg->hidden_act, "swish") != 0)
        return cm_error(CM_ERR_UNSUPPORTED, "%s: hidden_act '%s' is not supported for decoders (silu only: "
                        "Llama, Mistral, Qwen2/3, NV-Embed)", where, cfg->hidden_act);
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(tc, "rope_scaling");
    if (rs && !cJSON_IsNull(rs)) {
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(rs, "rope_type");
        if (!cJSON_IsString(rt)) rt = cJSON_GetObjectItemCaseSensitive(rs, "type");
        if (!(cJSON_IsString(rt) && !strcmp(rt->valuestring, "default")))
            return cm_error(CM_ERR_UNSUPPORTED, "%s: field 'rope_scaling' (type '%s') is not supported: only plain "
                            "rotary positions (rope_scaling null)", where, cJSON_IsString(rt) ? rt->valuestring : "?");
    }
    const char *base = dc->nvembed ? "mistral" : type;
    if (!strcmp(base, "mistral") || !strcmp(base, "bidir_mistral")) {
        CM_TRY(get_int(tc, where, "sliding_window", 0, 0, &dc->sliding_window));
    } else if (!strcmp(base, "qwen2") || !strcmp(base, "qwen3")) {
        int use_sw;
        CM_TRY(get_bool(tc, where, "use_sliding_window", 0, &use_sw));
        if (use_sw)
            return cm_error(CM_ERR_UNSUPPORTED, "%s: use_sliding_window true (per-layer windows) is not supported",
                            where);
        dc->qkv_bias = !strcmp(base, "qwen2");
        dc->qk_norm = !strcmp(base, "qwen3");
        if (!strcmp(base, "qwen3")) {
            CM_TRY(get_bool(tc, where, "attention_bias", 0, &dc->qkv_bias));
            dc->o_bias = dc->qkv_bias;
        }
    } else if (!strcmp(base, "llama")) {
        int ab, mb;
        CM_TRY(get_bool(tc, where, "attention_bias", 0, &ab));
        CM_TRY(get_bool(tc, where, "mlp_bias", 0, &mb));
        dc->qkv_bias = dc->o_bias = ab;
        dc->mlp_bias = mb;
    } else {
        return cm_error(CM_ERR_UNSUPPORTED, "%s: model_type '%s' is not a decoder this engine knows (llama, mistral, "
                        "qwen2, qwen3, nvembed)", where, type);
    }
    cfg->type_vocab_size = 0;
    CM_TRY(cm_hf_config_check_limits(cfg, where, "rms_norm_eps"));
    cfg->out_dim = cfg->hidden;
    cfg->default_attention = dc->nvembed || !strcmp(type, "bidir_mistral") ? CM_ATTN_BIDIRECTIONAL : CM_ATTN_CAUSAL;
    /* Embedding defaults (the folder's sentence-transformers files and the flags win): NV-Embed pools with its
     * latent attention over the non-instruction tokens; other decoders are E5-mistral-style last-token
     * embedders. Both take task instructions on queries in E5-mistral / NV-Embed's template. */
    cfg->default_pool = dc->nvembed ? CM_POOL_LATENT : CM_POOL_LAST;
    cfg->default_normalize = 1;
    cfg->default_exclude_instr = dc->nvembed ? 1 : 0;
    snprintf(cfg->default_query_template, sizeof cfg->default_query_template, "%s", "Instruct: {instruction}\nQuery: ");
    cfg->n_params_exact = cm_dec_n_params(cfg, dc);
    return CM_OK;
}

int64_t cm_dec_n_params(const cm_hf_config *c, const cm_dec_config *dc) {
    int64_t h = c->hidden, qd = c->n_heads * c->head_dim, kvd = c->n_kv_heads * c->head_dim, I = c->intermediate;
    int64_t layer = h * qd + 2 * h * kvd + qd * h + 3 * h * I + 2 * h;
    if (dc->qkv_bias) layer += qd + 2 * kvd;
    if (dc->o_bias) layer += h;
    if (dc->mlp_bias) layer += 2 * I + h;
    if (dc->qk_norm) layer += 2 * c->head_dim;
    int64_t n = c->vocab_size * h + c->n_layers * layer + h;
    if (dc->nvembed) n += cm_latent_n_params(&dc->lat);
    return n;
}

/* ---- weights ------------------------------------------------------------------------ */
void cm_decoder_free(cm_decoder *m) {
    if (!m) return;
    cm_wmat_free(&m->embed);
    if (m->layers)
        for (int64_t i = 0; i < m->cfg.n_layers; i++) {
            cm_dec_layer *l = &m->layers[i];
            cm_wmat *w[] = {&l->q, &l->k, &l->v, &l->o, &l->gate, &l->up, &l->down};
            for (size_t k = 0; k < sizeof w / sizeof w[0]; k++) cm_wmat_free(w[k]);
            float *f[] = {l->bq,    l->bk,    l->bv,      l->bo,     l->bgate, l->bup,
                          l->bdown, l->ln_in, l->ln_post, l->q_norm, l->k_norm};
            for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) free(f[k]);
        }
    free(m->layers);
    free(m->norm);
    cm_latent_free(m->latent);
    free(m);
}

static int load_layer(cm_decoder *m, const cm_safetensors *st, int64_t i) {
    const cm_hf_config *c = &m->cfg;
    cm_dec_layer *l = &m->layers[i];
    int64_t h = c->hidden, qd = c->n_heads * c->head_dim, kvd = c->n_kv_heads * c->head_dim, I = c->intermediate;
    char n[256];
#define NAME(s) (snprintf(n, sizeof n, "%slayers.%lld.%s", m->dc.prefix, (long long)i, s), n)
    CM_TRY(cm_weight_vector(st, NAME("input_layernorm.weight"), h, &l->ln_in));
    CM_TRY(cm_weight_vector(st, NAME("post_attention_layernorm.weight"), h, &l->ln_post));
    CM_TRY(cm_weight_matrix(st, NAME("self_attn.q_proj.weight"), qd, h, &l->q));
    CM_TRY(cm_weight_matrix(st, NAME("self_attn.k_proj.weight"), kvd, h, &l->k));
    CM_TRY(cm_weight_matrix(st, NAME("self_attn.v_proj.weight"), kvd, h, &l->v));
    CM_TRY(cm_weight_matrix(st, NAME("self_attn.o_proj.weight"), h, qd, &l->o));
    CM_TRY(cm_weight_matrix(st, NAME("mlp.gate_proj.weight"), I, h, &l->gate));
    CM_TRY(cm_weight_matrix(st, NAME("mlp.up_proj.weight"), I, h, &l->up));
    CM_TRY(cm_weight_matrix(st, NAME("mlp.down_proj.weight"), h, I, &l->down));
    if (m->dc.qkv_bias) {
        CM_TRY(cm_weight_vector(st, NAME("self_attn.q_proj.bias"), qd, &l->bq));
        CM_TRY(cm_weight_vector(st, NAME("self_attn.k_proj.bias"), kvd, &l->bk));
        CM_TRY(cm_weight_vector(st, NAME("self_attn.v_proj.bias"), kvd, &l->bv));
    }
    if (m->dc.o_bias) CM_TRY(cm_weight_vector(st, NAME("self_attn.o_proj.bias"), h, &l->bo));
    if (m->dc.mlp_bias) {
        CM_TRY(cm_weight_vector(st, NAME("mlp.gate_proj.bias"), I, &l->bgate));
        CM_TRY(cm_weight_vector(st, NAME("mlp.up_proj.bias"), I, &l->bup));
        CM_TRY(cm_weight_vector(st, NAME("mlp.down_proj.bias"), h, &l->bdown));
    }
    if (m->dc.qk_norm) {
        CM_TRY(cm_weight_vector(st, NAME("self_attn.q_norm.weight"), c->head_dim, &l->q_norm));
        CM_TRY(cm_weight_vector(st, NAME("self_attn.k_norm.weight"), c->head_dim, &l->k_norm));
    }
#undef NAME
    return CM_OK;
}

int cm_decoder_load(cm_decoder **out, const cm_hf_config *cfg, const cJSON *config, const cm_safetensors *st,
                    const char *dir) {
    *out = NULL;
    cm_decoder *m = cm_calloc(1, sizeof *m);
    if (!m) return CM_ERR_NOMEM;
    int rc = cm_dec_read_config(config, dir, &m->cfg, &m->dc);
    if (rc == CM_OK && (m->cfg.hidden != cfg->hidden || m->cfg.n_layers != cfg->n_layers))
        rc = cm_error(CM_ERR_INTERNAL, "%s: decoder config changed between read_config and load", dir);
    m->cfg.linear = cfg->linear;   /* engine tuning the caller resolved (model.h) */
    /* checkpoints saved from a bare MistralModel/LlamaModel have no "model." prefix */
    if (rc == CM_OK && !m->dc.nvembed && !cm_st_find(st, "model.embed_tokens.weight") &&
        cm_st_find(st, "embed_tokens.weight"))
        m->dc.prefix = "";
    char n[256];
    if (rc == CM_OK) {
        snprintf(n, sizeof n, "%sembed_tokens.weight", m->dc.prefix);
        rc = cm_weight_matrix(st, n, m->cfg.vocab_size, m->cfg.hidden, &m->embed);
    }
    if (rc == CM_OK && !(m->layers = cm_calloc((size_t)m->cfg.n_layers, sizeof *m->layers))) rc = CM_ERR_NOMEM;
    for (int64_t i = 0; rc == CM_OK && i < m->cfg.n_layers; i++) rc = load_layer(m, st, i);
    if (rc == CM_OK) {
        snprintf(n, sizeof n, "%snorm.weight", m->dc.prefix);
        rc = cm_weight_vector(st, n, m->cfg.hidden, &m->norm);
    }
    if (rc == CM_OK && m->dc.nvembed)
        rc = cm_latent_load(&m->latent, &m->dc.lat, m->cfg.hidden, st, omp_get_max_threads(), &m->cfg.linear);
    if (rc != CM_OK) {
        cm_decoder_free(m);
        return rc;
    }
    *out = m;
    return CM_OK;
}

/* ---- the architecture vtable ------------------------------------------------------------ */
static const char *const dec_types[] = {"llama", "mistral", "qwen2", "qwen3", "nvembed", "bidir_mistral", NULL};

static int v_read_config(const cJSON *config, const char *dir, cm_hf_config *cfg) {
    cm_dec_config dc;
    return cm_dec_read_config(config, dir, cfg, &dc);
}

/* read_config's exact count when present; else from cm_hf_config alone: biases by model_type; NV-Embed's latent layer
 * at LatentAttentionConfig's defaults (512 latents, 8 heads of 4096, width = hidden), which is what the released
 * checkpoints use. */
static void v_footprint(const cm_hf_config *cfg, int64_t *n_params, int64_t *bytes) {
    if (cfg->n_params_exact > 0) {
        *n_params = cfg->n_params_exact;
        *bytes = 4 * *n_params;
        return;
    }
    cm_dec_config dc;
    memset(&dc, 0, sizeof dc);
    dc.qkv_bias = !strcmp(cfg->model_type, "qwen2");
    dc.qk_norm = !strcmp(cfg->model_type, "qwen3");
    if (!strcmp(cfg->model_type, "nvembed")) {
        dc.nvembed = 1;
        dc.lat.n_latents = 512;
        dc.lat.heads = 8;
        dc.lat.head_dim = 4096;
        dc.lat.hidden = dc.lat.latent_dim = cfg->hidden;
    }
    *n_params = cm_dec_n_params(cfg, &dc);
    *bytes = 4 * *n_params;
}

static int v_load(void **state, const cm_hf_config *cfg, const cJSON *config, const cm_safetensors *st,
                  const char *dir) {
    cm_decoder *m = NULL;
    CM_TRY(cm_decoder_load(&m, cfg, config, st, dir));
    *state = m;
    return CM_OK;
}

static int v_forward(void *state, const cm_hf_batch *b, const cm_hf_forward_opts *o, float *hidden) {
    return cm_decoder_forward(state, b, o->attention == CM_ATTN_CAUSAL, o->threads, hidden);
}

static size_t v_scratch(const void *state, size_t n_tokens, size_t max_len) {
    const cm_decoder *m = state;
    size_t h = (size_t)m->cfg.hidden, qd = (size_t)(m->cfg.n_heads * m->cfg.head_dim);
    size_t kvd = (size_t)(m->cfg.n_kv_heads * m->cfg.head_dim), I = (size_t)m->cfg.intermediate;
    return 4 * (n_tokens * (h + 2 * qd + 2 * kvd + 2 * I) + max_len * (size_t)m->cfg.head_dim + 64 * max_len * 2);
}

static int v_pool_latent(void *state, const cm_hf_batch *b, const float *hidden, int exclude_instr, int threads,
                         float *out) {
    const cm_decoder *m = state;
    if (!m->latent)
        return cm_error(CM_ERR_UNSUPPORTED, "pooling 'latent' needs NV-Embed's latent-attention layer (model_type "
                        "nvembed); this model (%s) has none: use last or mean", m->cfg.model_type);
    return cm_latent_pool(m->latent, b, hidden, exclude_instr, threads, out);
}

static const char *v_text_suffix(const void *state) {
    const cm_decoder *m = state;
    return m->dc.nvembed ? "</s>" : NULL;   /* NV-Embed appends the Mistral EOS string to every input */
}

static void v_free(void *state) { cm_decoder_free(state); }

/* `cmteb info` lines from config.json alone (no weights): sizes, parameters, memory as kept (BF16 checkpoints
 * stay BF16) and per-token compute. */
static int v_describe(const cJSON *config, const char *dir, cm_str *r) {
    cm_hf_config c;
    cm_dec_config dc;
    CM_TRY(cm_dec_read_config(config, dir, &c, &dc));
    int64_t total = cm_dec_n_params(&c, &dc), lat = dc.nvembed ? cm_latent_n_params(&dc.lat) : 0;
    int64_t qd = c.n_heads * c.head_dim;
    CM_TRY(cm_str_printf(r, "decoder: %s, %lld layers, hidden %lld, %lld heads (%lld kv heads, head_dim %lld), "
                         "intermediate %lld, vocab %lld, rope_theta %g", c.model_type, (long long)c.n_layers,
                         (long long)c.hidden, (long long)c.n_heads, (long long)c.n_kv_heads, (long long)c.head_dim,
                         (long long)c.intermediate, (long long)c.vocab_size, dc.rope_theta));
    if (dc.sliding_window)
        CM_TRY(cm_str_printf(r, ", sliding window %lld (causal attention only)", (long long)dc.sliding_window));
    CM_TRY(cm_str_append(r, "\n"));
    if (dc.nvembed)
        CM_TRY(cm_str_printf(r,
                             "latent attention: %lld latents, %lld heads x %lld, GEGLU %lld; default pooling latent, "
                             "bidirectional attention, EOS appended, instruction masked\n",
                             (long long)dc.lat.n_latents, (long long)dc.lat.heads, (long long)dc.lat.head_dim,
                             (long long)(4 * dc.lat.hidden)));
    CM_TRY(cm_str_printf(r, "parameters: %lld (decoder %lld + latent attention %lld)\n", (long long)total,
                         (long long)(total - lat), (long long)lat));
    CM_TRY(cm_str_printf(r, "weights in memory as bf16 (kept bf16): %lld bytes (%.2f GiB); as float32: %lld bytes "
                         "(%.2f GiB)\n", (long long)(2 * total), 2.0 * (double)total / 1073741824.0,
                         (long long)(4 * total), 4.0 * (double)total / 1073741824.0));
    if (dc.nvembed)
        CM_TRY(cm_str_printf(r, "latent K/V precomputed at load (float32): %lld bytes\n",
                             (long long)(4 * dc.lat.n_latents * 2 * dc.lat.heads * dc.lat.head_dim)));
    int64_t mm = total - lat - c.vocab_size * c.hidden;    /* matmul parameters of the decoder */
    double lat_flop = 0;
    if (dc.nvembed) {   /* per token: to_q, to_out, GEGLU in/out projections, attention over the latents */
        double d = (double)dc.lat.hidden, inner = (double)(dc.lat.heads * dc.lat.head_dim), ff = 4.0 * d;
        lat_flop = 2.0 * (inner * d + d * inner + 2.0 * ff * d + d * ff) + 4.0 * (double)dc.lat.n_latents * inner;
    }
    CM_TRY(cm_str_printf(r, "compute: %.2f GFLOP per token (+ attention %.3f GFLOP per token per 512 tokens of "
                         "context)%s\n", (2.0 * (double)mm + lat_flop) / 1e9,
                         4.0 * 512.0 * (double)qd * (double)c.n_layers / 1e9,
                         dc.nvembed ? ", latent layer included" : ""));
    return CM_OK;
}

const cm_hf_arch cm_hf_arch_decoder = {
    .name = "decoder",
    .model_types = dec_types,
    .read_config = v_read_config,
    .footprint = v_footprint,
    .load = v_load,
    .forward = v_forward,
    .scratch_bytes = v_scratch,
    .pool_latent = v_pool_latent,
    .text_suffix = v_text_suffix,
    .free = v_free,
    .describe = v_describe,
};
