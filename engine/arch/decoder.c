/* decoder.c: weight loading and the architecture vtable (cm_hf_arch_decoder) of the decoder-LLM embedders: llama,
 * mistral, qwen2, qwen3, gemma3_text, llama_bidirec, nvembed (config.json: decoder_config.c). */
#include "engine/arch/decoder.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmteb/status.h"
#include "cmteb/util.h"

/* ---- weights ------------------------------------------------------------------------ */
void cm_decoder_free(cm_decoder *m) {
    if (!m) return;
    cm_wmat_free(&m->embed);
    if (m->layers)
        for (int64_t i = 0; i < m->cfg.n_layers; i++) {
            cm_dec_layer *l = &m->layers[i];
            cm_wmat *w[] = {&l->q, &l->k, &l->v, &l->o, &l->gate, &l->up, &l->down};
            for (size_t k = 0; k < sizeof w / sizeof w[0]; k++) cm_wmat_free(w[k]);
            float *f[] = {l->bq,      l->bk,     l->bv,      l->bo,     l->bgate,     l->bup,       l->bdown,
                          l->ln_in,   l->ln_post, l->q_norm, l->k_norm, l->ln_pre_ff, l->ln_post_ff};
            for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) free(f[k]);
        }
    free(m->layers);
    free(m->norm);
    cm_latent_free(m->latent);
    free(m);
}

/* Gemma's RMSNorm scales by (1 + weight): folded into the stored weight once at load. */
static void gemma_norm(float *w, int64_t n) {
    for (int64_t i = 0; i < n; i++) w[i] += 1.0f;
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
    if (m->dc.gemma3) {
        CM_TRY(cm_weight_vector(st, NAME("pre_feedforward_layernorm.weight"), h, &l->ln_pre_ff));
        CM_TRY(cm_weight_vector(st, NAME("post_feedforward_layernorm.weight"), h, &l->ln_post_ff));
        gemma_norm(l->ln_in, h);
        gemma_norm(l->ln_post, h);
        gemma_norm(l->ln_pre_ff, h);
        gemma_norm(l->ln_post_ff, h);
        gemma_norm(l->q_norm, c->head_dim);
        gemma_norm(l->k_norm, c->head_dim);
    }
#undef NAME
    /* --dtype bf16/int8: the seven matrices in the compute dtype (the embedding table stays: rows are looked up) */
    cm_wmat *w[] = {&l->q, &l->k, &l->v, &l->o, &l->gate, &l->up, &l->down};
    for (size_t k = 0; k < sizeof w / sizeof w[0]; k++) CM_TRY(cm_wmat_prepare(w[k], c->linear.dtype));
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
    m->embed_scale = 1.0f;
    if (rc == CM_OK && m->dc.gemma3) {
        gemma_norm(m->norm, m->cfg.hidden);
        /* HF multiplies by sqrt(hidden) in the dtype it runs in: float32 here, as HF loads any checkpoint by default
         * (a bf16 run would round it to bf16, 27.75 for 768, with every other op in bf16 too) */
        m->embed_scale = (float)sqrt((double)m->cfg.hidden);
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
static const char *const dec_types[] = {"llama",         "mistral",     "qwen2", "qwen3",
                                        "nvembed",       "bidir_mistral", "gemma3_text", "llama_bidirec", NULL};

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
    if (dc.sliding_window) {
        int64_t n_sl = 0;
        for (int64_t i = 0; i < c.n_layers; i++) n_sl += dc.layer_sliding[i];
        CM_TRY(cm_str_printf(r, ", sliding window %lld on %lld of %lld layers (%s)", (long long)dc.sliding_window,
                             (long long)n_sl, (long long)c.n_layers,
                             dc.window_both ? "both attention masks" : "causal attention only"));
    }
    static const char *const rope_names[] = {"default", "linear", "dynamic", "llama3"};
    if (dc.rope.kind != CM_ROPE_DEFAULT)
        CM_TRY(cm_str_printf(r, ", rope_scaling %s x%g", rope_names[dc.rope.kind], dc.rope.factor));
    if (dc.gemma3)
        CM_TRY(cm_str_printf(r, ", Gemma 3: local rope_theta %g, query_pre_attn_scalar^-1/2 %g%s",
                             dc.rope_local.theta, dc.attn_scale, dc.softcap > 0 ? ", softcapped scores" : ""));
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
