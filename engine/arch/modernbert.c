/*
 * modernbert.c: implements cm_hf_arch_modernbert (enc.h), ModernBERT
 * (config.json model_type "modernbert"; gte-modernbert, nomic-modernbert):
 * tok_embeddings + embeddings.norm, then pre-norm layers
 *   x = x + Wo(Attn(attn_norm(x)))   (attn_norm is the identity in layer 0)
 *   x = x + mlp.Wo(act(a) * g), [a | g] = mlp.Wi(mlp_norm(x))
 * and final_norm. Layer i attends globally when i % global_attn_every_n_layers
 * == 0 (RoPE with global_rope_theta), else within local_attention / 2 tokens
 * on each side (RoPE with local_rope_theta, or the global one when null).
 * LayerNorms have biases only with norm_bias, linears with attention_bias /
 * mlp_bias (all false in the published models).
 */
#include "engine/arch/enc.h"

#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdlib.h>
#include <string.h>

static const char *const modernbert_types[] = {"modernbert", NULL};

static int mb_read_config(const cJSON *c, const char *dir, cm_hf_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->model_type, sizeof cfg->model_type, "modernbert");
    const cJSON *arch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "architectures"), 0);
    snprintf(cfg->architecture, sizeof cfg->architecture, "%s", cJSON_IsString(arch) ? arch->valuestring : "");
    CM_TRY(cm_enc_cfg_int(c, dir, "vocab_size", 0, 1, &cfg->vocab_size));
    CM_TRY(cm_enc_cfg_int(c, dir, "hidden_size", 0, 1, &cfg->hidden));
    CM_TRY(cm_enc_cfg_int(c, dir, "num_hidden_layers", 0, 1, &cfg->n_layers));
    CM_TRY(cm_enc_cfg_int(c, dir, "num_attention_heads", 0, 1, &cfg->n_heads));
    CM_TRY(cm_enc_cfg_int(c, dir, "intermediate_size", 0, 1, &cfg->intermediate));
    CM_TRY(cm_enc_cfg_int(c, dir, "max_position_embeddings", 8192, 0, &cfg->max_positions));
    CM_TRY(cm_enc_cfg_int(c, dir, "pad_token_id", 0, 0, &cfg->pad_token_id));
    CM_TRY(cm_enc_cfg_num(c, dir, "norm_eps", 1e-5, &cfg->norm_eps));
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(c, "hidden_activation");
    snprintf(cfg->hidden_act, sizeof cfg->hidden_act, "%s", cJSON_IsString(act) ? act->valuestring : "gelu");
    if (cm_act_parse(cfg->hidden_act) < 0)
        return cm_error(CM_ERR_UNSUPPORTED, "%s/config.json: field 'hidden_activation': '%s' is not supported (gelu, "
                        "gelu_new, gelu_pytorch_tanh, relu, silu)", dir, cfg->hidden_act);
    int64_t every = 0, local = 0;
    CM_TRY(cm_enc_cfg_int(c, dir, "global_attn_every_n_layers", 1, 0, &every));
    CM_TRY(cm_enc_cfg_int(c, dir, "local_attention", 128, 0, &local));
    if (every < 1)
        return cm_error(CM_ERR_FORMAT, "%s/config.json: field 'global_attn_every_n_layers': %lld must be >= 1", dir,
                        (long long)every);
    if (local < 2 && every > 1)
        return cm_error(CM_ERR_FORMAT, "%s/config.json: field 'local_attention': %lld must be >= 2", dir,
                        (long long)local);
    double gt = 0;
    CM_TRY(cm_enc_cfg_num(c, dir, "global_rope_theta", 160000.0, &gt));
    if (gt <= 1)
        return cm_error(CM_ERR_FORMAT, "%s/config.json: field 'global_rope_theta': %g must be > 1", dir, gt);
    cfg->type_vocab_size = 0;
    return cm_enc_cfg_finish(cfg, dir, "norm_eps");
}

static void mb_footprint(const cm_hf_config *c, int64_t *n_params, int64_t *bytes) {
    int64_t h = c->hidden, I = c->intermediate;
    int64_t layer = 3 * h * h + h * h + 2 * I * h + h * I + 2 * h;   /* no biases; attn_norm + mlp_norm */
    /* embeddings + embedding norm, layers (layer 0 without attn_norm), final norm */
    *n_params = c->vocab_size * h + h + c->n_layers * layer - h + h;
    *bytes = 4 * *n_params;
}

/* A LayerNorm's weight and bias (owned zeros without norm_bias). */
static int norm(const cm_enc_loader *L, const char *base, int64_t h, int with_bias, float **g, float **b) {
    char n[256];
    snprintf(n, sizeof n, "%s.weight", base);
    CM_TRY(cm_enc_get(L, n, 1, h, 0, 0, g));
    snprintf(n, sizeof n, "%s.bias", base);
    if (with_bias) return cm_enc_get(L, n, 1, h, 0, 0, b);
    *b = cm_calloc((size_t)h, sizeof **b);
    return *b ? CM_OK : CM_ERR_NOMEM;
}

static int mb_load(void **state, const cm_hf_config *cfg, const cJSON *config, const cm_safetensors *st,
                   const char *dir) {
    *state = NULL;
    cm_enc *m = cm_enc_alloc(cfg, "ModernBERT");
    if (!m) return CM_ERR_NOMEM;
    int rc = CM_OK, nbias = 0, abias = 0, mbias = 0;
    int64_t every = 1, local = 128;
    double gt = 160000.0, lt = 0;
    cm_enc_cfg_bool(config, dir, "norm_bias", 0, &nbias);
    cm_enc_cfg_bool(config, dir, "attention_bias", 0, &abias);
    cm_enc_cfg_bool(config, dir, "mlp_bias", 0, &mbias);
    cm_enc_cfg_int(config, dir, "global_attn_every_n_layers", 1, 0, &every);
    cm_enc_cfg_int(config, dir, "local_attention", 128, 0, &local);
    cm_enc_cfg_num(config, dir, "global_rope_theta", 160000.0, &gt);
    cm_enc_cfg_num(config, dir, "local_rope_theta", gt, &lt);
    m->prenorm = 1;
    m->pos_kind = CM_ENC_ROPE;
    m->act = (cm_act)cm_act_parse(cfg->hidden_act);
    m->rot = (size_t)cfg->head_dim & ~(size_t)1;
    m->theta_global = gt;
    m->theta_local = lt > 1 ? lt : gt;
    m->window = (size_t)(local / 2);
    int64_t h = cfg->hidden, I = cfg->intermediate;
    cm_enc_loader L = {st, cm_enc_find_prefix(st, "embeddings.tok_embeddings.weight"), "ModernBERT"};
    if (!L.prefix) {
        rc = cm_error(CM_ERR_NOTFOUND, "%s: no 'embeddings.tok_embeddings.weight' (also tried the model. prefix); is "
                      "this a ModernBERT checkpoint?", cm_st_path(st));
        goto fail;
    }
    if ((rc = cm_enc_get(&L, "embeddings.tok_embeddings.weight", 2, cfg->vocab_size, h, 0, &m->word))) goto fail;
    if ((rc = norm(&L, "embeddings.norm", h, nbias, &m->emb_ln_g, &m->emb_ln_b))) goto fail;
    if ((rc = norm(&L, "final_norm", h, nbias, &m->final_g, &m->final_b))) goto fail;
    for (int64_t i = 0; i < cfg->n_layers; i++) {
        cm_enc_layer *l = &m->layers[i];
        char n[256];
#define P(suffix) (snprintf(n, sizeof n, "layers.%lld.%s", (long long)i, suffix), n)
        l->local = every > 1 && i % every != 0;
        char probe[256];
        snprintf(probe, sizeof probe, "%slayers.0.attn_norm.weight", L.prefix);
        if (i > 0 || cm_st_find(st, probe)) {
            if ((rc = norm(&L, P("attn_norm"), h, nbias, &l->ln1_g, &l->ln1_b))) goto fail;
        } else if (!(l->ln1_b = cm_calloc((size_t)h, sizeof *l->ln1_b))) {
            rc = CM_ERR_NOMEM;
            goto fail;
        }
        if ((rc = norm(&L, P("mlp_norm"), h, nbias, &l->ln2_g, &l->ln2_b))) goto fail;
        if ((rc = cm_enc_get(&L, P("attn.Wqkv.weight"), 2, 3 * h, h, 0, &l->wqkv))) goto fail;
        if (abias && (rc = cm_enc_get(&L, P("attn.Wqkv.bias"), 1, 3 * h, 0, 0, &l->bqkv))) goto fail;
        if ((rc = cm_enc_get(&L, P("attn.Wo.weight"), 2, h, h, 0, &l->wo))) goto fail;
        if (abias && (rc = cm_enc_get(&L, P("attn.Wo.bias"), 1, h, 0, 0, &l->bo))) goto fail;
        if ((rc = cm_enc_get(&L, P("mlp.Wi.weight"), 2, 2 * I, h, 0, &l->wi))) goto fail;
        if (mbias && (rc = cm_enc_get(&L, P("mlp.Wi.bias"), 1, 2 * I, 0, 0, &l->bi))) goto fail;
        if ((rc = cm_enc_get(&L, P("mlp.Wo.weight"), 2, h, I, 0, &l->wo2))) goto fail;
        if (mbias && (rc = cm_enc_get(&L, P("mlp.Wo.bias"), 1, h, 0, 0, &l->bo2))) goto fail;
#undef P
    }
    if ((rc = cm_enc_prepare(m))) goto fail;
    *state = m;
    return CM_OK;
fail:
    cm_enc_free(m);
    return rc;
}

const cm_hf_arch cm_hf_arch_modernbert = {
    .name = "modernbert",
    .model_types = modernbert_types,
    .read_config = mb_read_config,
    .footprint = mb_footprint,
    .load = mb_load,
    .forward = cm_enc_forward,
    .scratch_bytes = cm_enc_scratch_bytes,
    .free = cm_enc_free,
};
