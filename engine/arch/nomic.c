/*
 * nomic.c: implements cm_hf_arch_nomic (enc.h), NomicBert as in
 * nomic-embed-text-v1 / v1.5 (config.json model_type "nomic_bert"):
 * word + token-type embeddings and emb_ln, then post-norm layers with a
 * fused bias-free Wqkv, rotary positions (rotary_emb_base, on
 * rotary_emb_fraction of each head, rotate-half layout), out_proj, norm1,
 * SwiGLU MLP fc2(fc11(x) * silu(fc12(x))), norm2. Biases only where the
 * config says (qkv_proj_bias, mlp_fc1_bias, mlp_fc2_bias).
 */
#include "engine/arch/enc.h"

#include "cmteb/status.h"
#include "cmteb/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const nomic_types[] = {"nomic_bert", NULL};

static int unsupported_if(int cond, const char *dir, const char *key, const char *what) {
    if (!cond) return CM_OK;
    return cm_error(CM_ERR_UNSUPPORTED, "%s/config.json: field '%s': %s is not supported by the NomicBert engine",
                    dir, key, what);
}

static int nomic_read_config(const cJSON *c, const char *dir, cm_hf_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->model_type, sizeof cfg->model_type, "nomic_bert");
    const cJSON *arch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "architectures"), 0);
    snprintf(cfg->architecture, sizeof cfg->architecture, "%s", cJSON_IsString(arch) ? arch->valuestring : "");
    CM_TRY(cm_enc_cfg_int(c, dir, "vocab_size", 0, 1, &cfg->vocab_size));
    CM_TRY(cm_enc_cfg_int(c, dir, "n_embd", 0, 1, &cfg->hidden));
    CM_TRY(cm_enc_cfg_int(c, dir, "n_layer", 0, 1, &cfg->n_layers));
    CM_TRY(cm_enc_cfg_int(c, dir, "n_head", 0, 1, &cfg->n_heads));
    CM_TRY(cm_enc_cfg_int(c, dir, "n_inner", 4 * cfg->hidden, 0, &cfg->intermediate));
    CM_TRY(cm_enc_cfg_int(c, dir, "n_positions", 2048, 0, &cfg->max_positions));
    CM_TRY(cm_enc_cfg_int(c, dir, "type_vocab_size", 2, 0, &cfg->type_vocab_size));
    CM_TRY(cm_enc_cfg_int(c, dir, "pad_token_id", 0, 0, &cfg->pad_token_id));
    CM_TRY(cm_enc_cfg_num(c, dir, "layer_norm_epsilon", 1e-12, &cfg->norm_eps));
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(c, "activation_function");
    snprintf(cfg->hidden_act, sizeof cfg->hidden_act, "%s", cJSON_IsString(act) ? act->valuestring : "swiglu");
    if (strcmp(cfg->hidden_act, "swiglu") != 0 && strcmp(cfg->hidden_act, "geglu") != 0)
        return cm_error(CM_ERR_UNSUPPORTED, "%s/config.json: field 'activation_function': '%s' is not supported by "
                        "the NomicBert engine (swiglu, geglu)", dir, cfg->hidden_act);
    int prenorm = 0, rms = 0, interleaved = 0, parallel = 0, causal = 0;
    CM_TRY(cm_enc_cfg_bool(c, dir, "prenorm", 0, &prenorm));
    CM_TRY(cm_enc_cfg_bool(c, dir, "use_rms_norm", 0, &rms));
    CM_TRY(cm_enc_cfg_bool(c, dir, "rotary_emb_interleaved", 0, &interleaved));
    CM_TRY(cm_enc_cfg_bool(c, dir, "parallel_block", 0, &parallel));
    CM_TRY(cm_enc_cfg_bool(c, dir, "causal", 0, &causal));
    CM_TRY(unsupported_if(prenorm, dir, "prenorm", "true (pre-norm layers)"));
    CM_TRY(unsupported_if(rms, dir, "use_rms_norm", "true"));
    CM_TRY(unsupported_if(interleaved, dir, "rotary_emb_interleaved", "true (interleaved rotary pairs)"));
    CM_TRY(unsupported_if(parallel, dir, "parallel_block", "true"));
    CM_TRY(unsupported_if(causal, dir, "causal", "true"));
    const cJSON *sf = cJSON_GetObjectItemCaseSensitive(c, "rotary_scaling_factor");
    CM_TRY(unsupported_if(sf && !cJSON_IsNull(sf), dir, "rotary_scaling_factor", "a value (dynamic NTK scaling)"));
    double frac = 1.0, base = 10000.0;
    CM_TRY(cm_enc_cfg_num(c, dir, "rotary_emb_fraction", 1.0, &frac));
    CM_TRY(cm_enc_cfg_num(c, dir, "rotary_emb_base", 10000.0, &base));
    if (frac <= 0 || frac > 1)
        return cm_error(CM_ERR_FORMAT, "%s/config.json: field 'rotary_emb_fraction': %g is not in (0, 1]", dir, frac);
    if (base <= 1)
        return cm_error(CM_ERR_FORMAT, "%s/config.json: field 'rotary_emb_base': %g must be > 1", dir, base);
    CM_TRY(cm_enc_cfg_finish(cfg, dir, "layer_norm_epsilon"));
    if ((int64_t)(cfg->head_dim * frac) < 2)
        return cm_error(CM_ERR_FORMAT, "%s/config.json: field 'rotary_emb_fraction': %g of head size %lld leaves "
                        "no rotary dimensions", dir, frac, (long long)cfg->head_dim);
    return CM_OK;
}

static void nomic_footprint(const cm_hf_config *c, int64_t *n_params, int64_t *bytes) {
    int64_t h = c->hidden, I = c->intermediate;
    int64_t layer = 3 * h * h + h * h + 3 * h * I + 4 * h;
    *n_params = c->vocab_size * h + c->type_vocab_size * h + 2 * h + c->n_layers * layer;
    *bytes = 4 * *n_params;
}

/* A norm's bias, or owned zeros when the checkpoint has none. */
static int norm_bias(const cm_enc_loader *L, const char *name, int64_t h, float **out) {
    CM_TRY(cm_enc_get(L, name, 1, h, 0, 1, out));
    if (!*out && !(*out = cm_calloc((size_t)h, sizeof **out))) return CM_ERR_NOMEM;
    return CM_OK;
}

static int nomic_load(void **state, const cm_hf_config *cfg, const cJSON *config, const cm_safetensors *st,
                      const char *dir) {
    *state = NULL;
    (void)dir;
    cm_enc *m = cm_enc_alloc(cfg, "NomicBert");
    if (!m) return CM_ERR_NOMEM;
    int qkv_bias = 0, fc1_bias = 0, fc2_bias = 0, rc = CM_OK;
    cm_enc_cfg_bool(config, dir, "qkv_proj_bias", 0, &qkv_bias);
    cm_enc_cfg_bool(config, dir, "mlp_fc1_bias", 0, &fc1_bias);
    cm_enc_cfg_bool(config, dir, "mlp_fc2_bias", 0, &fc2_bias);
    double frac = 1.0, base = 10000.0;
    cm_enc_cfg_num(config, dir, "rotary_emb_fraction", 1.0, &frac);
    cm_enc_cfg_num(config, dir, "rotary_emb_base", 10000.0, &base);
    m->prenorm = 0;
    m->pos_kind = CM_ENC_ROPE;
    m->act = !strcmp(cfg->hidden_act, "geglu") ? CM_ACT_GELU : CM_ACT_SILU;
    m->rot = (size_t)(cfg->head_dim * frac) & ~(size_t)1;
    m->theta_global = m->theta_local = base;
    int64_t h = cfg->hidden, I = cfg->intermediate;
    cm_enc_loader L = {st, cm_enc_find_prefix(st, "embeddings.word_embeddings.weight"), "NomicBert"};
    if (!L.prefix) {
        rc = cm_error(CM_ERR_NOTFOUND, "%s: no 'embeddings.word_embeddings.weight' (is this a NomicBert checkpoint?)",
                      cm_st_path(st));
        goto fail;
    }
    if ((rc = cm_enc_get(&L, "embeddings.word_embeddings.weight", 2, cfg->vocab_size, h, 0, &m->word))) goto fail;
    if (cfg->type_vocab_size > 0) {
        float *tt = NULL;
        if ((rc = cm_enc_get(&L, "embeddings.token_type_embeddings.weight", 2, cfg->type_vocab_size, h, 0, &tt)))
            goto fail;
        m->type0 = tt;   /* row 0 first: only h floats are read */
    }
    if ((rc = cm_enc_get(&L, "emb_ln.weight", 1, h, 0, 0, &m->emb_ln_g))) goto fail;
    if ((rc = norm_bias(&L, "emb_ln.bias", h, &m->emb_ln_b))) goto fail;
    for (int64_t i = 0; i < cfg->n_layers; i++) {
        cm_enc_layer *l = &m->layers[i];
        char n[256];
#define P(suffix) (snprintf(n, sizeof n, "encoder.layers.%lld.%s", (long long)i, suffix), n)
        if ((rc = cm_enc_get(&L, P("attn.Wqkv.weight"), 2, 3 * h, h, 0, &l->wqkv))) goto fail;
        if (qkv_bias && (rc = cm_enc_get(&L, P("attn.Wqkv.bias"), 1, 3 * h, 0, 0, &l->bqkv))) goto fail;
        if ((rc = cm_enc_get(&L, P("attn.out_proj.weight"), 2, h, h, 0, &l->wo))) goto fail;
        if (qkv_bias && (rc = cm_enc_get(&L, P("attn.out_proj.bias"), 1, h, 0, 0, &l->bo))) goto fail;
        if ((rc = cm_enc_get(&L, P("norm1.weight"), 1, h, 0, 0, &l->ln1_g))) goto fail;
        if ((rc = norm_bias(&L, P("norm1.bias"), h, &l->ln1_b))) goto fail;
        if ((rc = cm_enc_get(&L, P("norm2.weight"), 1, h, 0, 0, &l->ln2_g))) goto fail;
        if ((rc = norm_bias(&L, P("norm2.bias"), h, &l->ln2_b))) goto fail;
        /* wi rows [0, I): fc12 (the gate, activated); [I, 2I): fc11 (up) */
        float *up = NULL, *gate = NULL, *bup = NULL, *bgate = NULL;
        if ((rc = cm_enc_get(&L, P("mlp.fc11.weight"), 2, I, h, 0, &up))) goto fail;
        if ((rc = cm_enc_get(&L, P("mlp.fc12.weight"), 2, I, h, 0, &gate))) { free(up); goto fail; }
        l->wi = cm_malloc((size_t)(2 * I * h) * sizeof *l->wi);
        if (l->wi) {
            memcpy(l->wi, gate, (size_t)(I * h) * sizeof *l->wi);
            memcpy(l->wi + I * h, up, (size_t)(I * h) * sizeof *l->wi);
        }
        free(up);
        free(gate);
        if (!l->wi) { rc = CM_ERR_NOMEM; goto fail; }
        if (fc1_bias) {
            if ((rc = cm_enc_get(&L, P("mlp.fc11.bias"), 1, I, 0, 0, &bup))) goto fail;
            if ((rc = cm_enc_get(&L, P("mlp.fc12.bias"), 1, I, 0, 0, &bgate))) { free(bup); goto fail; }
            l->bi = cm_malloc((size_t)(2 * I) * sizeof *l->bi);
            if (l->bi) {
                memcpy(l->bi, bgate, (size_t)I * sizeof *l->bi);
                memcpy(l->bi + I, bup, (size_t)I * sizeof *l->bi);
            }
            free(bup);
            free(bgate);
            if (!l->bi) { rc = CM_ERR_NOMEM; goto fail; }
        }
        if ((rc = cm_enc_get(&L, P("mlp.fc2.weight"), 2, h, I, 0, &l->wo2))) goto fail;
        if (fc2_bias && (rc = cm_enc_get(&L, P("mlp.fc2.bias"), 1, h, 0, 0, &l->bo2))) goto fail;
#undef P
    }
    if ((rc = cm_enc_prepare(m))) goto fail;
    *state = m;
    return CM_OK;
fail:
    cm_enc_free(m);
    return rc;
}

const cm_hf_arch cm_hf_arch_nomic = {
    .name = "nomic_bert",
    .model_types = nomic_types,
    .read_config = nomic_read_config,
    .footprint = nomic_footprint,
    .load = nomic_load,
    .forward = cm_enc_forward,
    .scratch_bytes = cm_enc_scratch_bytes,
    .free = cm_enc_free,
};
