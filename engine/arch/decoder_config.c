/* decoder_config.c: config.json of the decoder-LLM embedders (decoder.h): sizes, biases and norms by model_type,
 * rotary scaling (rope_scaling), per-layer sliding windows (Qwen2 max_window_layers, layer_types), Gemma 3's fields,
 * the embedding defaults; and the parameter count. */
#include "engine/arch/decoder.h"

#include <math.h>
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

/* rope_theta + rope_scaling (null, or {"rope_type" | "type": default | linear | dynamic | llama3, ...}) into r. */
static int read_rope(const cJSON *tc, const char *where, double theta, int64_t max_pos, cm_dec_rope *r) {
    memset(r, 0, sizeof *r);
    r->theta = theta;
    r->factor = 1.0;
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(tc, "rope_scaling");
    if (!rs || cJSON_IsNull(rs)) return CM_OK;
    if (!cJSON_IsObject(rs))
        return cm_error(CM_ERR_FORMAT, "%s: field 'rope_scaling': expected null or an object", where);
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(rs, "rope_type");
    if (!cJSON_IsString(rt)) rt = cJSON_GetObjectItemCaseSensitive(rs, "type");
    const char *t = cJSON_IsString(rt) ? rt->valuestring : "?";
    char w[4300];
    snprintf(w, sizeof w, "%s: rope_scaling", where);
    if (!strcmp(t, "default")) return CM_OK;
    if (!strcmp(t, "linear") || !strcmp(t, "dynamic") || !strcmp(t, "llama3")) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(rs, "factor");
        if (!cJSON_IsNumber(f) || !isfinite(f->valuedouble) || f->valuedouble <= 0)
            return cm_error(CM_ERR_FORMAT, "%s: field 'factor': expected a positive number for rope_type '%s'", w, t);
        r->factor = f->valuedouble;
    }
    if (!strcmp(t, "linear")) {
        r->kind = CM_ROPE_LINEAR;
    } else if (!strcmp(t, "dynamic")) {
        r->kind = CM_ROPE_DYNAMIC;
        r->original_max = (double)(max_pos > 0 ? max_pos : 1);
    } else if (!strcmp(t, "llama3")) {
        r->kind = CM_ROPE_LLAMA3;
        int64_t om;
        CM_TRY(get_num(rs, w, "low_freq_factor", 1.0, &r->low_freq_factor));
        CM_TRY(get_num(rs, w, "high_freq_factor", 4.0, &r->high_freq_factor));
        CM_TRY(get_int(rs, w, "original_max_position_embeddings", 0, 1, &om));
        if (om <= 0 || !(r->high_freq_factor > r->low_freq_factor))
            return cm_error(CM_ERR_FORMAT, "%s: original_max_position_embeddings must be > 0 and high_freq_factor "
                            "(%g) > low_freq_factor (%g)", w, r->high_freq_factor, r->low_freq_factor);
        r->original_max = (double)om;
    } else {
        return cm_error(CM_ERR_UNSUPPORTED, "%s: field 'rope_type': '%s' is not supported (default, linear, dynamic, "
                        "llama3)", w, t);
    }
    return CM_OK;
}

/* layer_types ["sliding_attention" | "full_attention", ...] (newer configs) into dc->layer_sliding when present. */
static int read_layer_types(const cJSON *tc, const char *where, int64_t n_layers, cm_dec_config *dc) {
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(tc, "layer_types");
    if (!lt || cJSON_IsNull(lt)) return CM_OK;
    if (!cJSON_IsArray(lt) || cJSON_GetArraySize(lt) != n_layers)
        return cm_error(CM_ERR_FORMAT, "%s: field 'layer_types': expected an array of %lld strings (one per layer)",
                        where, (long long)n_layers);
    int64_t i = 0;
    for (const cJSON *v = lt->child; v; v = v->next, i++) {
        if (cJSON_IsString(v) && !strcmp(v->valuestring, "sliding_attention")) dc->layer_sliding[i] = 1;
        else if (cJSON_IsString(v) && !strcmp(v->valuestring, "full_attention")) dc->layer_sliding[i] = 0;
        else
            return cm_error(CM_ERR_FORMAT, "%s: field 'layer_types' item %lld: expected \"sliding_attention\" or "
                            "\"full_attention\"", where, (long long)i);
    }
    return CM_OK;
}

/* Gemma 3 (gemma3_text) fields: sliding_window, layer_types or sliding_window_pattern, rope_local_base_freq,
 * query_pre_attn_scalar, attn_logit_softcapping, attention_bias, use_bidirectional_attention. */
static int read_gemma3(const cJSON *tc, const char *where, cm_hf_config *cfg, cm_dec_config *dc) {
    double local_theta = 0, qpas = 0;
    int64_t pattern = 0;
    int ab = 0;
    CM_TRY(get_int(tc, where, "sliding_window", 4096, 0, &dc->sliding_window));
    CM_TRY(get_num(tc, where, "rope_local_base_freq", 10000.0, &local_theta));
    CM_TRY(get_num(tc, where, "query_pre_attn_scalar", 256.0, &qpas));
    CM_TRY(get_bool(tc, where, "attention_bias", 0, &ab));
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(tc, "attn_logit_softcapping");
    if (sc && !cJSON_IsNull(sc)) CM_TRY(get_num(tc, where, "attn_logit_softcapping", 0, &dc->softcap));
    const char *pk = cJSON_GetObjectItemCaseSensitive(tc, "sliding_window_pattern") ? "sliding_window_pattern"
                                                                                     : "_sliding_window_pattern";
    CM_TRY(get_int(tc, where, pk, 6, 0, &pattern));
    /* Gemma3TextConfig without layer_types: layer i slides unless (i + 1) % pattern == 0 */
    for (int64_t i = 0; i < cfg->n_layers; i++)
        dc->layer_sliding[i] = dc->sliding_window > 0 && (pattern <= 0 || (i + 1) % pattern != 0);
    CM_TRY(read_layer_types(tc, where, cfg->n_layers, dc));
    if (dc->sliding_window == 0) memset(dc->layer_sliding, 0, sizeof dc->layer_sliding);
    int bidir = 0;
    CM_TRY(get_bool(tc, where, "use_bidirectional_attention", 0, &bidir));
    dc->window_both = 1;
    dc->rope_local.kind = CM_ROPE_DEFAULT;   /* sliding layers: rope_local_base_freq, never scaled */
    dc->rope_local.theta = local_theta;
    dc->rope_local.factor = 1.0;
    dc->attn_scale = 1.0 / sqrt(qpas);
    dc->qkv_bias = dc->o_bias = ab;
    dc->qk_norm = 1;
    cfg->default_attention = bidir ? CM_ATTN_BIDIRECTIONAL : CM_ATTN_CAUSAL;
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
    int gemma = !strcmp(type, "gemma3_text");
    dc->gemma3 = gemma;
    CM_TRY(get_num(tc, where, "rope_theta", gemma ? 1000000.0 : 10000.0, &dc->rope_theta));
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(tc, gemma ? "hidden_activation" : "hidden_act");
    if (gemma && !cJSON_IsString(act)) act = cJSON_GetObjectItemCaseSensitive(tc, "hidden_act");
    snprintf(cfg->hidden_act, sizeof cfg->hidden_act, "%s",
             cJSON_IsString(act) ? act->valuestring : gemma ? "gelu_pytorch_tanh" : "silu");
    if (gemma) {
        dc->gelu_tanh = !strcmp(cfg->hidden_act, "gelu_pytorch_tanh") || !strcmp(cfg->hidden_act, "gelu_new") ||
                        !strcmp(cfg->hidden_act, "gelu_tanh");
        if (!dc->gelu_tanh && strcmp(cfg->hidden_act, "gelu") != 0)
            return cm_error(CM_ERR_UNSUPPORTED, "%s: field 'hidden_activation': '%s' is not supported for Gemma 3 "
                            "(gelu_pytorch_tanh or gelu)", where, cfg->hidden_act);
    } else if (strcmp(cfg->hidden_act, "silu") != 0 && strcmp(cfg->hidden_act, "swish") != 0) {
        return cm_error(CM_ERR_UNSUPPORTED, "%s: hidden_act '%s' is not supported for decoders (silu only: "
                        "Llama, Mistral, Qwen2/3, NV-Embed)", where, cfg->hidden_act);
    }
    CM_TRY(read_rope(tc, where, dc->rope_theta, cfg->max_positions, &dc->rope));
    dc->rope_local = dc->rope;
    dc->attn_scale = 1.0 / sqrt((double)cfg->head_dim);
    if (cfg->n_layers > CM_DEC_MAX_LAYERS)
        return cm_error(CM_ERR_FORMAT, "%s: field 'num_hidden_layers': %lld is outside the supported range 1..%d",
                        where, (long long)cfg->n_layers, (int)CM_DEC_MAX_LAYERS);
    const char *base = dc->nvembed ? "mistral" : type;
    if (!strcmp(base, "mistral") || !strcmp(base, "bidir_mistral")) {
        CM_TRY(get_int(tc, where, "sliding_window", 0, 0, &dc->sliding_window));
        memset(dc->layer_sliding, dc->sliding_window > 0, (size_t)cfg->n_layers);
    } else if (!strcmp(base, "qwen2") || !strcmp(base, "qwen3")) {
        int use_sw;
        CM_TRY(get_bool(tc, where, "use_sliding_window", 0, &use_sw));
        if (use_sw) {   /* HF Qwen2/Qwen3: layers i >= max_window_layers slide (or as layer_types says) */
            int64_t mwl;
            CM_TRY(get_int(tc, where, "sliding_window", 4096, 0, &dc->sliding_window));
            CM_TRY(get_int(tc, where, "max_window_layers", 28, 0, &mwl));
            for (int64_t i = 0; i < cfg->n_layers; i++) dc->layer_sliding[i] = dc->sliding_window > 0 && i >= mwl;
            CM_TRY(read_layer_types(tc, where, cfg->n_layers, dc));
        }
        dc->qkv_bias = !strcmp(base, "qwen2");
        dc->qk_norm = !strcmp(base, "qwen3");
        if (!strcmp(base, "qwen3")) {
            CM_TRY(get_bool(tc, where, "attention_bias", 0, &dc->qkv_bias));
            dc->o_bias = dc->qkv_bias;
        }
    } else if (!strcmp(base, "llama") || !strcmp(base, "llama_bidirec")) {
        int ab, mb;
        CM_TRY(get_bool(tc, where, "attention_bias", 0, &ab));
        CM_TRY(get_bool(tc, where, "mlp_bias", 0, &mb));
        dc->qkv_bias = dc->o_bias = ab;
        dc->mlp_bias = mb;
    } else if (gemma) {
        CM_TRY(read_gemma3(tc, where, cfg, dc));
    } else {
        return cm_error(CM_ERR_UNSUPPORTED, "%s: model_type '%s' is not a decoder this engine knows (llama, mistral, "
                        "qwen2, qwen3, gemma3_text, nvembed)", where, type);
    }
    for (int64_t i = 1; i < cfg->n_layers; i++)
        if (dc->layer_sliding[i] != dc->layer_sliding[0]) dc->per_layer_window = 1;
    if (!dc->per_layer_window && !dc->layer_sliding[0]) dc->sliding_window = 0;   /* no layer slides */
    cfg->type_vocab_size = 0;
    CM_TRY(cm_hf_config_check_limits(cfg, where, "rms_norm_eps"));
    cfg->out_dim = cfg->hidden;
    /* llama_bidirec: NVIDIA's bidirectional Llama embedders (llama-3.2-nv-embedqa-1b-v2), "pooling": "avg" */
    int bidir_llama = !strcmp(type, "llama_bidirec");
    if (!gemma)
        cfg->default_attention = dc->nvembed || bidir_llama || !strcmp(type, "bidir_mistral") ? CM_ATTN_BIDIRECTIONAL
                                                                                               : CM_ATTN_CAUSAL;
    /* Embedding defaults (the folder's sentence-transformers files and the flags win): NV-Embed pools with its
     * latent attention over the non-instruction tokens; other decoders are E5-mistral-style last-token
     * embedders. Both take task instructions on queries in E5-mistral / NV-Embed's template. */
    cfg->default_pool = dc->nvembed ? CM_POOL_LATENT : CM_POOL_LAST;
    cfg->default_normalize = 1;
    cfg->default_exclude_instr = dc->nvembed ? 1 : 0;
    snprintf(cfg->default_query_template, sizeof cfg->default_query_template, "%s", "Instruct: {instruction}\nQuery: ");
    if (bidir_llama) cfg->default_pool = CM_POOL_MEAN;
    if (gemma) {   /* EmbeddingGemma: mean pooling; its prompts come from config_sentence_transformers.json */
        cfg->default_pool = CM_POOL_MEAN;
        cfg->default_query_template[0] = 0;
    }
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
    if (dc->gemma3) layer += 2 * h;   /* pre/post feed-forward norms */
    int64_t n = c->vocab_size * h + c->n_layers * layer + h;
    if (dc->nvembed) n += cm_latent_n_params(&dc->lat);
    return n;
}
