/*
 * jina.c: implements cm_hf_arch_jina (enc.h), JinaBert as in
 * jina-embeddings-v2 (config.json model_type "bert" with
 * position_embedding_type "alibi", architectures JinaBert*; model.c picks
 * this arch for such configs): BERT embeddings without position embeddings,
 * post-norm BERT attention (query/key/value with biases) plus ALiBi biases
 * -slope_head * |i - j|, and a GLU MLP: act(first I rows of gated_layers x)
 * * (last I rows), then wo (with bias) and mlp.layernorm over the residual.
 * feed_forward_type "geglu" (exact GELU) or "reglu" (ReLU).
 */
#include "engine/arch/enc.h"

#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdlib.h>
#include <string.h>

/* Reached through model.c's check of position_embedding_type; the model_type
 * list names the value for messages only. */
static const char *const jina_types[] = {"jina_bert", NULL};

static int jina_read_config(const cJSON *c, const char *dir, cm_hf_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(c, "model_type");
    snprintf(cfg->model_type, sizeof cfg->model_type, "%s", cJSON_IsString(mt) ? mt->valuestring : "bert");
    const cJSON *arch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "architectures"), 0);
    snprintf(cfg->architecture, sizeof cfg->architecture, "%s", cJSON_IsString(arch) ? arch->valuestring : "");
    const cJSON *pet = cJSON_GetObjectItemCaseSensitive(c, "position_embedding_type");
    if (!cJSON_IsString(pet) || strcmp(pet->valuestring, "alibi") != 0)
        return cm_error(CM_ERR_UNSUPPORTED, "%s/config.json: field 'position_embedding_type': the JinaBert engine "
                        "expects \"alibi\"", dir);
    CM_TRY(cm_enc_cfg_int(c, dir, "vocab_size", 0, 1, &cfg->vocab_size));
    CM_TRY(cm_enc_cfg_int(c, dir, "hidden_size", 0, 1, &cfg->hidden));
    CM_TRY(cm_enc_cfg_int(c, dir, "num_hidden_layers", 0, 1, &cfg->n_layers));
    CM_TRY(cm_enc_cfg_int(c, dir, "num_attention_heads", 0, 1, &cfg->n_heads));
    CM_TRY(cm_enc_cfg_int(c, dir, "intermediate_size", 0, 1, &cfg->intermediate));
    CM_TRY(cm_enc_cfg_int(c, dir, "max_position_embeddings", 8192, 0, &cfg->max_positions));
    CM_TRY(cm_enc_cfg_int(c, dir, "type_vocab_size", 2, 0, &cfg->type_vocab_size));
    CM_TRY(cm_enc_cfg_int(c, dir, "pad_token_id", 0, 0, &cfg->pad_token_id));
    CM_TRY(cm_enc_cfg_num(c, dir, "layer_norm_eps", 1e-12, &cfg->norm_eps));
    const cJSON *ff = cJSON_GetObjectItemCaseSensitive(c, "feed_forward_type");
    snprintf(cfg->hidden_act, sizeof cfg->hidden_act, "%s", cJSON_IsString(ff) ? ff->valuestring : "geglu");
    if (strcmp(cfg->hidden_act, "geglu") != 0 && strcmp(cfg->hidden_act, "reglu") != 0)
        return cm_error(CM_ERR_UNSUPPORTED, "%s/config.json: field 'feed_forward_type': '%s' is not supported by the "
                        "JinaBert engine (geglu, reglu)", dir, cfg->hidden_act);
    return cm_enc_cfg_finish(cfg, dir, "layer_norm_eps");
}

static void jina_footprint(const cm_hf_config *c, int64_t *n_params, int64_t *bytes) {
    int64_t h = c->hidden, I = c->intermediate;
    int64_t layer = 4 * h * h + 4 * h + 2 * I * h + h * I + h + 4 * h;
    *n_params = c->vocab_size * h + c->type_vocab_size * h + 2 * h + c->n_layers * layer;
    *bytes = 4 * *n_params;
}

static int jina_load(void **state, const cm_hf_config *cfg, const cJSON *config, const cm_safetensors *st,
                     const char *dir) {
    *state = NULL;
    (void)config;
    (void)dir;
    cm_enc *m = cm_enc_alloc(cfg, "JinaBert");
    if (!m) return CM_ERR_NOMEM;
    int rc = CM_OK;
    m->prenorm = 0;
    m->pos_kind = CM_ENC_ALIBI;
    m->act = !strcmp(cfg->hidden_act, "reglu") ? CM_ACT_RELU : CM_ACT_GELU;
    m->slopes = cm_malloc((size_t)cfg->n_heads * sizeof *m->slopes);
    if (!m->slopes) { rc = CM_ERR_NOMEM; goto fail; }
    cm_enc_alibi_slopes((size_t)cfg->n_heads, m->slopes);
    int64_t h = cfg->hidden, I = cfg->intermediate;
    cm_enc_loader L = {st, cm_enc_find_prefix(st, "embeddings.word_embeddings.weight"), "JinaBert"};
    if (!L.prefix) {
        rc = cm_error(CM_ERR_NOTFOUND, "%s: no 'embeddings.word_embeddings.weight' (is this a JinaBert checkpoint?)",
                      cm_st_path(st));
        goto fail;
    }
    if ((rc = cm_enc_get(&L, "embeddings.word_embeddings.weight", 2, cfg->vocab_size, h, 0, &m->word))) goto fail;
    if (cfg->type_vocab_size > 0 &&
        (rc = cm_enc_get(&L, "embeddings.token_type_embeddings.weight", 2, cfg->type_vocab_size, h, 0, &m->type0)))
        goto fail;
    if ((rc = cm_enc_get(&L, "embeddings.LayerNorm.weight", 1, h, 0, 0, &m->emb_ln_g))) goto fail;
    if ((rc = cm_enc_get(&L, "embeddings.LayerNorm.bias", 1, h, 0, 0, &m->emb_ln_b))) goto fail;
    for (int64_t i = 0; i < cfg->n_layers; i++) {
        cm_enc_layer *l = &m->layers[i];
        char n[256];
#define P(suffix) (snprintf(n, sizeof n, "encoder.layer.%lld.%s", (long long)i, suffix), n)
        l->wqkv = cm_malloc((size_t)(3 * h * h) * sizeof(float));
        l->bqkv = cm_malloc((size_t)(3 * h) * sizeof(float));
        if (!l->wqkv || !l->bqkv) { rc = CM_ERR_NOMEM; goto fail; }
        static const char *const qkv[3] = {"query", "key", "value"};
        for (int k = 0; k < 3; k++) {
            char wn[96], bn[96];
            float *w = NULL, *bb = NULL;
            snprintf(wn, sizeof wn, "attention.self.%s.weight", qkv[k]);
            snprintf(bn, sizeof bn, "attention.self.%s.bias", qkv[k]);
            if ((rc = cm_enc_get(&L, P(wn), 2, h, h, 0, &w))) goto fail;
            if ((rc = cm_enc_get(&L, P(bn), 1, h, 0, 0, &bb))) { free(w); goto fail; }
            memcpy(l->wqkv + k * h * h, w, (size_t)(h * h) * sizeof(float));
            memcpy(l->bqkv + k * h, bb, (size_t)h * sizeof(float));
            free(w);
            free(bb);
        }
        if ((rc = cm_enc_get(&L, P("attention.output.dense.weight"), 2, h, h, 0, &l->wo))) goto fail;
        if ((rc = cm_enc_get(&L, P("attention.output.dense.bias"), 1, h, 0, 0, &l->bo))) goto fail;
        if ((rc = cm_enc_get(&L, P("attention.output.LayerNorm.weight"), 1, h, 0, 0, &l->ln1_g))) goto fail;
        if ((rc = cm_enc_get(&L, P("attention.output.LayerNorm.bias"), 1, h, 0, 0, &l->ln1_b))) goto fail;
        if ((rc = cm_enc_get(&L, P("mlp.gated_layers.weight"), 2, 2 * I, h, 0, &l->wi))) goto fail;
        if ((rc = cm_enc_get(&L, P("mlp.wo.weight"), 2, h, I, 0, &l->wo2))) goto fail;
        if ((rc = cm_enc_get(&L, P("mlp.wo.bias"), 1, h, 0, 0, &l->bo2))) goto fail;
        if ((rc = cm_enc_get(&L, P("mlp.layernorm.weight"), 1, h, 0, 0, &l->ln2_g))) goto fail;
        if ((rc = cm_enc_get(&L, P("mlp.layernorm.bias"), 1, h, 0, 0, &l->ln2_b))) goto fail;
#undef P
    }
    if ((rc = cm_enc_prepare(m))) goto fail;
    *state = m;
    return CM_OK;
fail:
    cm_enc_free(m);
    return rc;
}

const cm_hf_arch cm_hf_arch_jina = {
    .name = "jina_bert",
    .model_types = jina_types,
    .read_config = jina_read_config,
    .footprint = jina_footprint,
    .load = jina_load,
    .forward = cm_enc_forward,
    .scratch_bytes = cm_enc_scratch_bytes,
    .free = cm_enc_free,
};
