/*
 * hf_model.c: implements hf_model.h: reads a Hugging Face model folder
 * (config.json, weights, tokenizer, sentence-transformers settings), applies
 * cm_encoder_params overrides, and encodes texts: format (prompt or
 * instruction template) -> tokenize -> sort by length -> pack into batches
 * -> one forward pass per batch -> every requested pooling.
 */
#include "engine/hf/hf_model.h"

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/cuda/gpu_plan.h"
#include "engine/hf/hf_gpu.h"
#include "engine/train/pooler_model.h"

#include <ctype.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

struct cm_hf_model {
    char                *dir;
    cJSON               *config;
    cm_hf_config         cfg;
    const cm_hf_arch    *arch;
    void                *state;
    cm_safetensors      *st;
    cm_tokenizer        *tok;
    cm_hf_settings       set;
    int                  pool_from_folder;   /* 1 when 1_Pooling said so */
    char                *query_prompt, *document_prompt, *query_template, *document_template;
    char                 fingerprint[17];
    cm_dense             dense[CM_HF_MAX_DENSE];   /* sentence-transformers Dense modules after pooling */
    size_t               n_dense;
    size_t               pool_dim;   /* width of the pooled vector (out_dim before the Dense modules) */
    cm_device_spec       device;     /* CPU, or CUDA with the replicas' ordinals */
    cm_gpu_dtype         dtype;      /* on CUDA */
    cm_cpu_dtype         cpu_dtype;  /* on the CPU: the Linear layers' compute dtype (engine/nn/bf16.h) */
    char                 device_name[16 * CM_GPU_MAX_DEVICES];
    cm_hf_gpu           *gpu;        /* the replicas when on CUDA */
    cm_head             *head;       /* a trained pooling head (train-pooler's folder), or NULL */
    /* reusable buffers */
    cm_hf_batch          batch;
    float               *hidden;
    size_t               hidden_cap;
};

const cm_hf_config *cm_hf_model_config(const cm_hf_model *m) { return &m->cfg; }
const cm_hf_settings *cm_hf_model_settings(const cm_hf_model *m) { return &m->set; }
const cm_tokenizer *cm_hf_model_tokenizer(const cm_hf_model *m) { return m->tok; }
const cm_hf_arch *cm_hf_model_arch(const cm_hf_model *m) { return m->arch; }
const void *cm_hf_model_state(const cm_hf_model *m) { return m->state; }
const cm_safetensors *cm_hf_model_weights(const cm_hf_model *m) { return m->st; }
const char *cm_hf_model_fingerprint(const cm_hf_model *m) { return m->fingerprint; }
const char *cm_hf_model_dir(const cm_hf_model *m) { return m->dir; }
size_t cm_hf_model_dense(const cm_hf_model *m, const cm_dense **out) {
    *out = m->dense;
    return m->n_dense;
}

const char *cm_hf_model_device(const cm_hf_model *m) { return m->device_name; }
const char *cm_hf_model_dtype(const cm_hf_model *m) {
    return m->device.kind == CM_DEVICE_CUDA ? cm_gpu_dtype_name(m->dtype) : cm_cpu_dtype_name(m->cpu_dtype);
}

cm_cpu_dtype cm_hf_model_cpu_dtype(const cm_hf_model *m) {
    return m->device.kind == CM_DEVICE_CUDA ? CM_CPU_FP32 : m->cpu_dtype;
}

void cm_hf_model_free(cm_hf_model *m) {
    if (!m) return;
    cm_hf_gpu_free(m->gpu);   /* the replicas borrow the model: first */
    cm_head_free(m->head);
    if (m->state) m->arch->free(m->state);
    cm_st_free(m->st);
    cm_tokenizer_free(m->tok);
    cJSON_Delete(m->config);
    cm_hf_batch_free(&m->batch);
    for (size_t i = 0; i < m->n_dense; i++) cm_dense_clear(&m->dense[i]);
    free(m->hidden);
    free(m->query_prompt);
    free(m->document_prompt);
    free(m->query_template);
    free(m->document_template);
    free(m->dir);
    free(m);
}

/* Reads DIR/NAME as JSON; *out NULL (and CM_OK) when the file is absent. */
static int read_json(const char *dir, const char *name, cJSON **out) {
    *out = NULL;
    char *p = cm_path_join(dir, name);
    if (!p) return CM_ERR_NOMEM;
    if (!cm_file_exists(p)) {
        free(p);
        return CM_OK;
    }
    char *text = NULL;
    size_t len = 0;
    int rc = cm_read_file_max(p, &text, &len, CM_READ_MAX_JSON);   /* config and module files are small */
    if (rc == CM_OK) {
        size_t failures = cm_alloc_failures();
        *out = cJSON_ParseWithLength(text, len);
        if (!*out && cm_alloc_failures() != failures) rc = cm_error(CM_ERR_NOMEM, "%s: out of memory parsing", p);
        else if (!*out) rc = cm_error(CM_ERR_FORMAT, "%s: not valid JSON", p);
    }
    free(text);
    free(p);
    return rc;
}

static int jbool(const cJSON *j, const char *k) { return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, k)); }

/* 1_Pooling/config.json -> pooling kind and include_prompt. */
static int read_pooling(cm_hf_model *m, const char *path_rel) {
    char *sub = cm_path_join(m->dir, path_rel);
    if (!sub) return CM_ERR_NOMEM;
    cJSON *j = NULL;
    int rc = read_json(sub, "config.json", &j);
    free(sub);
    CM_TRY(rc);
    if (!j) return CM_OK;
    int n = 0;
    cm_pool_kind k = CM_POOL_MEAN;
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(j, "pooling_mode");
    if (cJSON_IsString(mode)) {
        rc = cm_pool_parse(mode->valuestring, &k);
        n = 1;
    } else {
        if (jbool(j, "pooling_mode_cls_token")) { k = CM_POOL_CLS; n++; }
        if (jbool(j, "pooling_mode_mean_tokens")) { k = CM_POOL_MEAN; n++; }
        if (jbool(j, "pooling_mode_lasttoken")) { k = CM_POOL_LAST; n++; }
        if (jbool(j, "pooling_mode_weightedmean_tokens")) { k = CM_POOL_WEIGHTEDMEAN; n++; }
        if (jbool(j, "pooling_mode_max_tokens")) { k = CM_POOL_MAX; n++; }
        if (jbool(j, "pooling_mode_mean_sqrt_len_tokens")) { k = CM_POOL_MEAN_SQRT; n++; }
    }
    if (rc == CM_OK && n > 1)
        rc = cm_error(CM_ERR_UNSUPPORTED, "%s/%s/config.json: %d pooling modes at once (concatenated) are not "
                      "supported; choose one with --pooling", m->dir, path_rel, n);
    if (rc == CM_OK && n == 1) {
        m->set.pool.kind = k;
        m->pool_from_folder = 1;
    }
    const cJSON *ip = cJSON_GetObjectItemCaseSensitive(j, "include_prompt");
    if (rc == CM_OK && cJSON_IsBool(ip)) m->set.pool.exclude_instr = !cJSON_IsTrue(ip);
    cJSON_Delete(j);
    return rc;
}

static int read_st_files(cm_hf_model *m, size_t *st_max_len) {
    cJSON *mods = NULL;
    CM_TRY(read_json(m->dir, "modules.json", &mods));
    int rc = CM_OK;
    int saw_pool = 0, saw_norm = 0;
    if (mods) {
        if (!cJSON_IsArray(mods)) rc = cm_error(CM_ERR_FORMAT, "%s/modules.json: expected an array of modules", m->dir);
        for (const cJSON *it = mods ? mods->child : NULL; rc == CM_OK && it; it = it->next) {
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(it, "type");
            const cJSON *path = cJSON_GetObjectItemCaseSensitive(it, "path");
            const char *t = cJSON_IsString(type) ? type->valuestring : "";
            const char *dot = strrchr(t, '.');
            const char *base = dot ? dot + 1 : t;
            if (!strcmp(base, "Transformer")) continue;
            if (!strcmp(base, "Pooling")) {
                saw_pool = 1;
                rc = read_pooling(m, cJSON_IsString(path) ? path->valuestring : "1_Pooling");
            } else if (!strcmp(base, "Normalize")) {
                m->set.pool.normalize = 1;
                saw_norm = 1;
            } else if (!strcmp(base, "Dense")) {
                if (saw_norm)
                    rc = cm_error(CM_ERR_UNSUPPORTED, "%s/modules.json: a Dense module after Normalize is not "
                                  "supported", m->dir);
                else if (m->n_dense == CM_HF_MAX_DENSE)
                    rc = cm_error(CM_ERR_UNSUPPORTED, "%s/modules.json: more than %d Dense modules", m->dir,
                                  CM_HF_MAX_DENSE);
                else if ((rc = cm_dense_read_config(&m->dense[m->n_dense], m->dir,
                                                    cJSON_IsString(path) ? path->valuestring : "")) == CM_OK)
                    m->n_dense++;
                else
                    cm_dense_clear(&m->dense[m->n_dense]);
            } else {
                rc = cm_error(CM_ERR_UNSUPPORTED, "%s/modules.json: sentence-transformers module '%s' is not "
                              "supported (Transformer, Pooling, Dense and Normalize are)", m->dir, t);
            }
        }
        cJSON_Delete(mods);
        CM_TRY(rc);
    }
    if (!saw_pool) CM_TRY(read_pooling(m, "1_Pooling"));
    if (!mods) {
        char *nd = cm_path_join(m->dir, "2_Normalize");
        if (!nd) return CM_ERR_NOMEM;
        if (cm_dir_exists(nd)) m->set.pool.normalize = 1;
        free(nd);
    }
    cJSON *sb = NULL;
    CM_TRY(read_json(m->dir, "sentence_bert_config.json", &sb));
    const cJSON *ml = cJSON_GetObjectItemCaseSensitive(sb, "max_seq_length");
    if (cJSON_IsNumber(ml) && ml->valuedouble > 0) *st_max_len = (size_t)ml->valuedouble;
    cJSON_Delete(sb);
    cJSON *cs = NULL;
    CM_TRY(read_json(m->dir, "config_sentence_transformers.json", &cs));
    const cJSON *prompts = cJSON_GetObjectItemCaseSensitive(cs, "prompts");
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(prompts, "query");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(prompts, "document");
    if (!cJSON_IsString(d)) d = cJSON_GetObjectItemCaseSensitive(prompts, "passage");
    if (!cJSON_IsString(d)) d = cJSON_GetObjectItemCaseSensitive(prompts, "corpus");
    if (cJSON_IsString(q) && q->valuestring[0]) m->query_prompt = cm_strdup(q->valuestring);
    if (cJSON_IsString(d) && d->valuestring[0]) m->document_prompt = cm_strdup(d->valuestring);
    int prc = (cJSON_IsString(q) && q->valuestring[0] && !m->query_prompt) ||
             (cJSON_IsString(d) && d->valuestring[0] && !m->document_prompt) ? CM_ERR_NOMEM : CM_OK;
    cJSON_Delete(cs);
    return prc;
}

/* A fast 64-bit hash of a byte range, 8 bytes at a time (weights can be
 * hundreds of MB; cm_hash64 goes byte by byte). */
static uint64_t hash_words(const void *data, size_t len, uint64_t h) {
    const unsigned char *p = data;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
    }
    return cm_hash64(p + i, len - i, h);
}

/* Fingerprint: config, tokenizer file, weights (all bytes up to 256 MB,
 * else names/shapes plus samples), and every setting that changes vectors. */
static void make_fingerprint(cm_hf_model *m) {
    uint64_t h = 0x5eed;
    char *cj = cJSON_PrintUnformatted(m->config);
    if (cj) {
        h = cm_hash64(cj, strlen(cj), h);
        free(cj);
    }
    static const char *const tfiles[] = {"tokenizer.json", "vocab.txt", "tokenizer_config.json", NULL};
    for (size_t i = 0; tfiles[i]; i++) {
        char *p = cm_path_join(m->dir, tfiles[i]);
        char *text = NULL;
        size_t len = 0;
        if (p && cm_file_exists(p) && cm_read_file(p, &text, &len) == CM_OK) h = cm_hash64(text, len, h);
        free(text);
        free(p);
    }
    if (m->st) {
        int full = cm_st_data_bytes(m->st) <= ((size_t)256 << 20);
        for (size_t i = 0; i < cm_st_count(m->st); i++) {
            const cm_st_tensor *t = cm_st_at(m->st, i);
            h = cm_hash64(t->name, strlen(t->name), h);
            h = cm_hash64(t->shape, sizeof t->shape, h ^ (uint64_t)t->dtype);
            if (full) {
                h = hash_words(t->data, t->nbytes, h);
            } else {
                for (size_t k = 0; k < 16 && t->nbytes; k++) {
                    size_t at = t->nbytes / 16 * k, n = t->nbytes - at < 4096 ? t->nbytes - at : 4096;
                    h = cm_hash64((const char *)t->data + at, n, h);
                }
            }
        }
    }
    for (size_t i = 0; i < m->n_dense; i++) h = cm_dense_hash(&m->dense[i], h);
    if (m->head) h = hash_words(cm_head_weights(m->head), cm_head_n_params(m->head) * sizeof(float), h ^ 0x4ead);
    cm_str s = {0};
    cm_str_printf(&s, "pool=%d excl=%d norm=%d attn=%d maxlen=%zu qp=%s dp=%s qt=%s dt=%s", (int)m->set.pool.kind,
                  m->set.pool.exclude_instr, m->set.pool.normalize, (int)m->set.attention, m->set.max_length,
                  m->set.query_prompt, m->set.document_prompt, m->set.query_template ? m->set.query_template : "-",
                  m->set.document_template ? m->set.document_template : "-");
    /* bf16/fp16/int8 vectors must not share cache entries with fp32 ones (fp32 on a GPU shares the CPU's);
     * the CPU's bf16 and int8 differ from the GPU's bf16 (other kernels, other rounding): own keys */
    if (m->device.kind == CM_DEVICE_CUDA && m->dtype != CM_GPU_FP32)
        cm_str_printf(&s, " dtype=%s", cm_gpu_dtype_name(m->dtype));
    if (m->device.kind != CM_DEVICE_CUDA && m->cpu_dtype != CM_CPU_FP32)
        cm_str_printf(&s, " cpu_dtype=%s", cm_cpu_dtype_name(m->cpu_dtype));
    if (m->set.dim < (size_t)m->cfg.out_dim) cm_str_printf(&s, " dim=%zu", m->set.dim);   /* Matryoshka */
    if (s.s) h = cm_hash64(s.s, s.len, h);
    cm_str_free(&s);
    cm_hex64(h, m->fingerprint);
}

/* The BF16 linear strategy (engine/nn/bf16.h), resolved once per model load.
 * CMTEB_BF16_MODE=blas, CMTEB_BF16_TILE_MB and CMTEB_BF16_BIG_FROM are
 * documented tuning knobs (bench/RESULTS.md, bench/decoder_bench.sh): they are
 * read here, at load, never in the hot path. */
static cm_wlinear_params linear_params(void) {
    cm_wlinear_params p = cm_wlinear_default_params();
    const char *e = getenv("CMTEB_BF16_MODE");
    if (e && !strcmp(e, "blas")) p.blas_mode = 1;
    if ((e = getenv("CMTEB_BF16_TILE_MB")) && atoi(e) > 0) p.tile_mb = (size_t)atoi(e);
    if ((e = getenv("CMTEB_BF16_BIG_FROM")) && atoi(e) > 0) p.big_from = (size_t)atoi(e);
    return p;
}

/* params->device and dtype into m->device / m->dtype: "cuda..." (every
 * visible GPU for plain "cuda") or the CPU for anything else (NULL, "auto",
 * "cpu": cm_encoder_init resolves "auto"; this internal entry stays on the
 * CPU unless told). */
static int resolve_device(cm_hf_model *m, const cm_encoder_params *params) {
    cm_device_spec d;
    CM_TRY(cm_device_parse(params->device, &d));
    m->dtype = CM_GPU_BF16;
    m->cpu_dtype = CM_CPU_FP32;
    if (d.kind != CM_DEVICE_CUDA) {
        memset(&m->device, 0, sizeof m->device);
        m->device.kind = CM_DEVICE_CPU;
        if (params->dtype && cm_cpu_dtype_parse(params->dtype, &m->cpu_dtype))
            return cm_error(CM_ERR_UNSUPPORTED, "--dtype %s: the CPU engine computes in fp32, bf16 or int8",
                            params->dtype);
    } else {
        if (params->dtype) CM_TRY(cm_gpu_dtype_parse(params->dtype, &m->dtype));
        int n = 0;
        if (cm_gpu_built()) CM_TRY(cm_gpu_count(&n));
        CM_TRY(cm_device_resolve(&d, cm_gpu_built(), n, 1, &m->device));
    }
    cm_device_format(&m->device, m->device_name, sizeof m->device_name);
    return CM_OK;
}

static int load_folder(cm_hf_model **out, const char *dir, const cm_encoder_params *params, int weights) {
    *out = NULL;
    cm_encoder_params dflt = cm_encoder_default_params();
    if (!params) params = &dflt;
    if (!dir || !*dir) return cm_error(CM_ERR_ARG, "hf: expected hf:PATH to a model folder");
    if (!cm_dir_exists(dir)) return cm_error(CM_ERR_NOTFOUND, "%s: model folder not found", dir);
    cm_hf_model *m = cm_calloc(1, sizeof *m);
    if (!m) return CM_ERR_NOMEM;
    int rc = CM_OK;
    m->dir = cm_strdup(dir);
    if (!m->dir) { rc = CM_ERR_NOMEM; goto fail; }
    if ((rc = read_json(dir, "config.json", &m->config))) goto fail;
    if (!m->config) {
        rc = cm_error(CM_ERR_NOTFOUND, "%s/config.json: not found (is this a Hugging Face model folder?)", dir);
        goto fail;
    }
    if ((rc = resolve_device(m, params))) goto fail;
    if ((rc = cm_hf_arch_find(m->config, dir, &m->arch))) goto fail;
    if ((rc = m->arch->read_config(m->config, dir, &m->cfg))) goto fail;
    m->cfg.linear = linear_params();
    m->cfg.linear.dtype = m->cpu_dtype;   /* each architecture's load prepares its matrices for it */
    if ((rc = cm_tokenizer_load(&m->tok, dir))) goto fail;
    if ((size_t)m->cfg.vocab_size < cm_tokenizer_vocab_size(m->tok) && !strcmp(m->arch->name, "bert")) {
        rc = cm_error(CM_ERR_FORMAT, "%s: the tokenizer has %zu tokens but config.json vocab_size is %lld", dir,
                      cm_tokenizer_vocab_size(m->tok), (long long)m->cfg.vocab_size);
        goto fail;
    }
    /* defaults, then the folder, then the flags */
    m->set.pool.kind = CM_POOL_MEAN;   /* sentence-transformers' default without 1_Pooling */
    m->set.attention = m->cfg.default_attention ? m->cfg.default_attention : CM_ATTN_BIDIRECTIONAL;
    if (m->cfg.default_pool) m->set.pool.kind = (cm_pool_kind)m->cfg.default_pool;
    if (m->cfg.default_normalize > 0) m->set.pool.normalize = 1;
    if (m->cfg.default_exclude_instr > 0) m->set.pool.exclude_instr = 1;
    if (m->cfg.default_query_template[0] && !params->query_template &&
        !(m->query_template = cm_strdup(m->cfg.default_query_template))) {
        rc = CM_ERR_NOMEM;
        goto fail;
    }
    size_t st_max = 0;
    if ((rc = read_st_files(m, &st_max))) goto fail;
    size_t pos_limit = (size_t)m->cfg.max_positions;
    if (!strcmp(m->arch->name, "bert") && strcmp(m->cfg.model_type, "bert") != 0)
        pos_limit = (size_t)(m->cfg.max_positions - m->cfg.pad_token_id - 1);   /* RoBERTa/MPNet offset */
    m->set.max_length = st_max ? st_max : cm_tokenizer_json_max_length(m->tok);
    if (!m->set.max_length || m->set.max_length > pos_limit) m->set.max_length = pos_limit;
    if (params->pooling && (rc = cm_pool_parse(params->pooling, &m->set.pool.kind))) goto fail;
    if (m->set.pool.kind == CM_POOL_DEFAULT) m->set.pool.kind = CM_POOL_MEAN;
    if (m->set.pool.kind == CM_POOL_LATENT && !m->arch->pool_latent) {
        rc = cm_error(CM_ERR_ARG, "%s: pooling 'latent' needs a latent-attention model (NV-Embed); %s has none", dir,
                      m->cfg.model_type);
        goto fail;
    }
    if (params->attention) {
        if (!strcmp(params->attention, "bidirectional") || !strcmp(params->attention, "non-causal"))
            m->set.attention = CM_ATTN_BIDIRECTIONAL;
        else if (!strcmp(params->attention, "causal"))
            m->set.attention = CM_ATTN_CAUSAL;
        else {
            rc = cm_error(CM_ERR_ARG, "unknown attention '%s' (expected bidirectional or causal)", params->attention);
            goto fail;
        }
    }
    if (params->normalize >= 0) m->set.pool.normalize = params->normalize ? 1 : 0;
    if (params->max_length > 0) {
        if ((size_t)params->max_length > pos_limit) {
            rc = cm_error(CM_ERR_ARG, "--max-length %d exceeds the model's %zu positions", params->max_length,
                          pos_limit);
            goto fail;
        }
        m->set.max_length = (size_t)params->max_length;
    }
    if (params->pool_instruction >= 0) m->set.pool.exclude_instr = params->pool_instruction ? 0 : 1;
    if (params->query_template) {
        free(m->query_template);
        if (!(m->query_template = cm_strdup(params->query_template))) { rc = CM_ERR_NOMEM; goto fail; }
    }
    if (params->document_template && !(m->document_template = cm_strdup(params->document_template))) {
        rc = CM_ERR_NOMEM;
        goto fail;
    }
    m->set.query_prompt = m->query_prompt ? m->query_prompt : "";
    m->set.document_prompt = m->document_prompt ? m->document_prompt : "";
    m->set.query_template = m->query_template;
    m->set.document_template = m->document_template;
    m->set.threads = params->threads > 0 ? params->threads : omp_get_num_procs();
    m->set.batch_tokens = 8192;
    if (params->batch_size > 0) m->set.batch_seqs = (size_t)params->batch_size;
    if (m->set.batch_tokens < m->set.max_length) m->set.batch_tokens = m->set.max_length;
    /* Dense modules: pooled width -> ... -> the model's output width (set after the architecture loads) */
    m->pool_dim = (size_t)m->cfg.out_dim;
    for (size_t i = 0, w = m->pool_dim; i < m->n_dense; w = m->dense[i++].out)
        if (m->dense[i].in != w) {
            rc = cm_error(CM_ERR_FORMAT, "%s/config.json: in_features %zu, but the vector reaching it has %zu values",
                          m->dense[i].dir, m->dense[i].in, w);
            goto fail;
        }
    if (weights) {
        if ((rc = cm_st_open(&m->st, dir))) goto fail;
        if ((rc = m->arch->load(&m->state, &m->cfg, m->config, m->st, dir))) goto fail;
        for (size_t i = 0; i < m->n_dense; i++)
            if ((rc = cm_dense_load_weights(&m->dense[i])) || (rc = cm_dense_prepare(&m->dense[i], m->cpu_dtype)))
                goto fail;
    }
    if (m->n_dense) m->cfg.out_dim = (int64_t)m->dense[m->n_dense - 1].out;
    m->set.dim = (size_t)m->cfg.out_dim;
    if (params->dim < 0 || (params->dim > 0 && (int64_t)params->dim > m->cfg.out_dim)) {
        rc = cm_error(CM_ERR_ARG, "--dim %d: expected 1..%lld (the model's output width)", params->dim,
                      (long long)m->cfg.out_dim);
        goto fail;
    }
    if (params->dim > 0) m->set.dim = (size_t)params->dim;
    make_fingerprint(m);
    size_t gpu_seqs = params->batch_size > 0 ? (size_t)params->batch_size : 0;
    if (weights && m->device.kind == CM_DEVICE_CUDA &&
        (rc = cm_hf_gpu_open(&m->gpu, m, &m->device, m->dtype, gpu_seqs)))
        goto fail;
    /* OpenBLAS maps a 128 MiB buffer per calling thread and, when the map fails, retries it forever:
     * a small `ulimit -v` would hang the first forward pass instead of failing it */
    if (weights && m->device.kind != CM_DEVICE_CUDA &&
        (rc = cm_address_space_check((size_t)(m->set.threads + 1) * ((size_t)136 << 20),
                                     "the CPU engine's OpenBLAS buffers (128 MiB per thread)")))
        goto fail;
    *out = m;
    return CM_OK;
fail:
    cm_hf_model_free(m);
    return rc;
}

/* A trained-pooler folder (engine/train/pooler_model.h) loads its backbone with the folder's settings under
 * the flags, then the head, which becomes the default pooling (instruction tokens left out, L2-normalised:
 * as trained). Any other folder loads as itself. */
int cm_hf_model_load(cm_hf_model **out, const char *dir, const cm_encoder_params *params, int weights) {
    *out = NULL;
    cm_pooler_ref *ref = NULL;
    if (dir && *dir) CM_TRY(cm_pooler_ref_read(dir, &ref));
    cm_encoder_params dflt = cm_encoder_default_params();
    cm_encoder_params p = params ? *params : dflt;
    if (ref) {
        if (!p.attention) p.attention = ref->attention;
        if (!p.query_template) p.query_template = ref->query_template;
        if (p.max_length <= 0) p.max_length = ref->max_length;
    }
    cm_pool_kind asked = CM_POOL_DEFAULT;
    if (p.pooling) {
        int prc = cm_pool_parse(p.pooling, &asked);
        if (prc) { cm_pooler_ref_free(ref); return prc; }
        if (asked == CM_POOL_HEAD && !ref) return cm_error(CM_ERR_ARG, "%s: pooling 'head' needs a folder that "
                                                           "`cmteb train-pooler` wrote", dir);
        if (asked == CM_POOL_HEAD) p.pooling = NULL;
    }
    cm_hf_model *m = NULL;
    int rc = load_folder(&m, ref ? ref->backbone : dir, &p, weights);
    if (rc == CM_OK && ref) {
        if (weights) rc = cm_head_load(&m->head, ref->head_dir, m->cfg.hidden);
        if (rc == CM_OK && m->gpu)
            rc = cm_error(CM_ERR_UNSUPPORTED, "%s: trained pooling heads run on the CPU only (use --device cpu)", dir);
        if (rc == CM_OK && (!p.pooling || asked == CM_POOL_HEAD)) {
            m->set.pool.kind = CM_POOL_HEAD;
            m->set.pool.exclude_instr = p.pool_instruction >= 0 ? !p.pool_instruction : 1;
            m->set.pool.normalize = p.normalize >= 0 ? (p.normalize ? 1 : 0) : 1;
        }
        if (rc == CM_OK && m->n_dense)
            rc = cm_error(CM_ERR_UNSUPPORTED, "%s: a trained head over a backbone with Dense modules", dir);
        if (rc == CM_OK) make_fingerprint(m);
    }
    cm_pooler_ref_free(ref);
    if (rc != CM_OK) {
        cm_hf_model_free(m);
        return rc;
    }
    *out = m;
    return CM_OK;
}

/* Pools every sequence of b with the trained head into out (n_seqs, hidden). */
static int pool_head(const cm_hf_model *m, const cm_hf_batch *b, const float *hidden, int exclude_instr,
                     float *out) {
    if (!m->head) return cm_error(CM_ERR_ARG, "pooling 'head' needs a folder that `cmteb train-pooler` wrote");
    size_t d = (size_t)m->cfg.hidden;
    for (size_t s = 0; s < b->n_seqs; s++)
        CM_TRY(cm_head_forward(m->head, hidden + b->offset[s] * d, b->length[s], exclude_instr ? b->n_instr[s] : 0,
                               out + s * d));
    return CM_OK;
}

/* ---- formatting ----------------------------------------------------------- */

int cm_hf_model_format(const cm_hf_model *m, const char *text, cm_role role, const char *instruction, char **out,
                       size_t *instr_prefix_len) {
    *out = NULL;
    cm_str s = {0};
    const char *tmpl = role == CM_ROLE_QUERY ? m->set.query_template : m->set.document_template;
    const char *prompt = role == CM_ROLE_QUERY ? m->set.query_prompt : m->set.document_prompt;
    int rc = cm_str_append(&s, "");
    if (rc == CM_OK && instruction && *instruction && tmpl) {
        const char *p = strstr(tmpl, "{instruction}");
        if (p) {
            rc = cm_str_appendn(&s, tmpl, (size_t)(p - tmpl));
            if (rc == CM_OK) rc = cm_str_append(&s, instruction);
            if (rc == CM_OK) rc = cm_str_append(&s, p + strlen("{instruction}"));
        } else {
            rc = cm_str_append(&s, tmpl);
        }
    } else if (rc == CM_OK && prompt && *prompt) {
        rc = cm_str_append(&s, prompt);
    }
    *instr_prefix_len = s.len;
    if (rc == CM_OK) rc = cm_str_append(&s, text);
    const char *suffix = m->state && m->arch->text_suffix ? m->arch->text_suffix(m->state) : NULL;
    if (rc == CM_OK && suffix) rc = cm_str_append(&s, suffix);
    if (rc) {
        cm_str_free(&s);
        return rc;
    }
    *out = s.s;
    return CM_OK;
}

/* ---- encoding ------------------------------------------------------------- */

int cm_hf_item_cmp(const void *a, const void *b) {
    const cm_hf_item *x = a, *y = b;
    if (x->n != y->n) return x->n < y->n ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

void cm_hf_tok_scratch_free(cm_hf_tok_scratch *s) {
    free(s->last_prefix);
    s->last_prefix = NULL;
    cm_tok_encoding_free(&s->enc);
    cm_tok_encoding_free(&s->penc);
}

/* The prompt prefix's token count (sentence-transformers rule: len(tokenize(prefix)) - 1, i.e. the leading
 * special token(s) plus the prefix tokens) marks the instruction tokens. */
int cm_hf_tokenize(const cm_hf_model *m, cm_hf_tok_scratch *s, const char *text, cm_role role,
                   const char *instruction, size_t index, cm_hf_item *it) {
    cm_tok_options opt = cm_tok_default_options();
    opt.max_length = m->set.max_length;
    char *full = NULL;
    size_t plen = 0;
    CM_TRY(cm_hf_model_format(m, text ? text : "", role, instruction, &full, &plen));
    int rc = CM_OK;
    size_t n_instr = 0;
    if (plen) {
        if (!s->last_prefix || strncmp(s->last_prefix, full, plen) != 0 || s->last_prefix[plen] != '\0') {
            free(s->last_prefix);
            s->last_prefix = cm_strndup(full, plen);
            cm_tok_options po = cm_tok_default_options();
            rc = s->last_prefix ? cm_tokenizer_encode(m->tok, s->last_prefix, &po, &s->penc) : CM_ERR_NOMEM;
            s->last_prefix_ntok = s->penc.n ? s->penc.n - 1 : 0;
        }
        n_instr = s->last_prefix_ntok;
    }
    if (rc == CM_OK) rc = cm_tokenizer_encode(m->tok, full, &opt, &s->enc);
    free(full);
    if (rc) return rc;
    if (s->enc.n == 0)
        return cm_error(CM_ERR_ARG, "text %zu produced no tokens and the tokenizer adds no special tokens", index);
    it->ids = cm_malloc(s->enc.n * sizeof *it->ids);
    if (!it->ids) return CM_ERR_NOMEM;
    memcpy(it->ids, s->enc.ids, s->enc.n * sizeof *s->enc.ids);
    it->n = s->enc.n;
    it->n_instr = n_instr;
    it->index = index;
    return CM_OK;
}

/* Matryoshka: the first dim values of a pooled vector src into dst,
 * L2-renormalised when the pooling normalises (a copy when dim is the full width). */
static void truncate_row(const float *src, float *dst, size_t dim, int normalize) {
    memcpy(dst, src, dim * sizeof *dst);
    if (normalize) cm_l2_normalize_rows(dst, 1, dim);
}

/* The GPU pipeline writes full-width rows: encode into (n, out_dim)
 * buffers, then truncate into outs (n, set.dim). pools are resolved. */
static int gpu_encode_truncated(cm_hf_model *m, const char *const *texts, size_t n, cm_role role,
                                const char *instruction, const cm_pool_spec *ps, size_t npools, float *const *outs) {
    size_t od = (size_t)m->cfg.out_dim, dim = m->set.dim;
    float **full = cm_calloc(npools ? npools : 1, sizeof *full);
    int rc = full ? CM_OK : CM_ERR_NOMEM;
    for (size_t k = 0; rc == CM_OK && k < npools; k++)
        if (!(full[k] = cm_malloc(n * od * sizeof **full))) rc = CM_ERR_NOMEM;
    if (rc == CM_OK) rc = cm_hf_gpu_encode(m->gpu, m, texts, n, role, instruction, ps, npools, full);
    for (size_t k = 0; rc == CM_OK && k < npools; k++)
        for (size_t i = 0; i < n; i++) truncate_row(full[k] + i * od, outs[k] + i * dim, dim, ps[k].normalize);
    for (size_t k = 0; full && k < npools; k++) free(full[k]);
    free(full);
    return rc;
}

int cm_hf_encode_multi(cm_hf_model *m, const char *const *texts, size_t n, cm_role role, const char *instruction,
                       const cm_pool_spec *pools, size_t npools, float *const *outs) {
    if (!m->state) return cm_error(CM_ERR_ARG, "%s: model loaded without weights", m->dir);
    if (!n) return CM_OK;
    size_t h = (size_t)m->cfg.hidden, pd = m->pool_dim, od = (size_t)m->cfg.out_dim, wmax = h > pd ? h : pd;
    for (size_t i = 0; i < m->n_dense; i++) wmax = m->dense[i].out > wmax ? m->dense[i].out : wmax;
    cm_pool_spec *ps = cm_malloc((npools ? npools : 1) * sizeof *ps);
    cm_hf_item *items = cm_calloc(n, sizeof *items);
    int rc = (ps && items) ? CM_OK : CM_ERR_NOMEM;
    for (size_t k = 0; rc == CM_OK && k < npools; k++) {
        ps[k] = pools[k];
        if (ps[k].kind == CM_POOL_DEFAULT) {
            ps[k].kind = m->set.pool.kind;
            ps[k].exclude_instr = pools[k].exclude_instr < 0 ? m->set.pool.exclude_instr : pools[k].exclude_instr;
        }
        if (ps[k].normalize < 0) ps[k].normalize = m->set.pool.normalize;
        if (ps[k].exclude_instr < 0) ps[k].exclude_instr = m->set.pool.exclude_instr;
        if (ps[k].kind == CM_POOL_LATENT && !m->arch->pool_latent)
            rc = cm_error(CM_ERR_ARG, "pooling 'latent' needs a latent-attention model (NV-Embed)");
    }
    if (rc == CM_OK && m->gpu) {   /* the GPU pipeline tokenizes, plans and pools itself */
        free(items);
        rc = m->set.dim < od ? gpu_encode_truncated(m, texts, n, role, instruction, ps, npools, outs)
                             : cm_hf_gpu_encode(m->gpu, m, texts, n, role, instruction, ps, npools, outs);
        free(ps);
        return rc;
    }
    cm_hf_tok_scratch ts = {0};
    for (size_t i = 0; rc == CM_OK && i < n; i++)
        rc = cm_hf_tokenize(m, &ts, texts[i], role, instruction, i, &items[i]);
    cm_hf_tok_scratch_free(&ts);
    if (rc == CM_OK) qsort(items, n, sizeof *items, cm_hf_item_cmp);
    float *pooled = NULL, *dbuf = NULL;
    cm_hf_forward_opts fo = {m->set.attention, m->set.threads};
    for (size_t i0 = 0; rc == CM_OK && i0 < n;) {
        cm_hf_batch_clear(&m->batch);
        size_t i1 = i0;
        while (i1 < n && (i1 == i0 || (m->batch.n_tokens + items[i1].n <= m->set.batch_tokens &&
                                       (!m->set.batch_seqs || i1 - i0 < m->set.batch_seqs)))) {
            rc = cm_hf_batch_add(&m->batch, items[i1].ids, items[i1].n, items[i1].n_instr);
            if (rc) break;
            i1++;
        }
        if (rc) break;
        if (m->batch.n_tokens > m->hidden_cap) {
            free(m->hidden);
            m->hidden = cm_malloc(m->batch.n_tokens * h * sizeof *m->hidden);
            m->hidden_cap = m->hidden ? m->batch.n_tokens : 0;
            if (!m->hidden) { rc = CM_ERR_NOMEM; break; }
        }
        rc = m->arch->forward(m->state, &m->batch, &fo, m->hidden);
        if (rc) break;
        free(pooled);
        free(dbuf);
        size_t ns = m->batch.n_seqs;
        pooled = cm_malloc(ns * wmax * sizeof *pooled);
        dbuf = m->n_dense ? cm_malloc(ns * wmax * sizeof *dbuf) : NULL;
        if (!pooled || (m->n_dense && !dbuf)) { rc = CM_ERR_NOMEM; break; }
        for (size_t k = 0; rc == CM_OK && k < npools; k++) {
            size_t d = h;
            cm_pool_spec pk = ps[k];
            pk.normalize = 0;   /* after the Dense modules */
            if (pk.kind == CM_POOL_LATENT) {
                d = pd;
                rc = m->arch->pool_latent(m->state, &m->batch, m->hidden, pk.exclude_instr, m->set.threads, pooled);
            } else if (pk.kind == CM_POOL_HEAD) {
                rc = pool_head(m, &m->batch, m->hidden, pk.exclude_instr, pooled);
            } else {
                rc = cm_hf_pool(&m->batch, m->hidden, h, &pk, pooled);
            }
            if (rc == CM_OK && d != pd)
                rc = cm_error(CM_ERR_INTERNAL, "pooling '%s' gives %zu values but the model's pooled width is %zu",
                              cm_pool_name(ps[k].kind), d, pd);
            float *v = pooled;
            for (size_t i = 0; rc == CM_OK && i < m->n_dense; i++) {
                float *dst = v == pooled ? dbuf : pooled;
                rc = cm_dense_apply(&m->dense[i], v, ns, dst);
                v = dst;
            }
            if (rc == CM_OK && ps[k].normalize) cm_l2_normalize_rows(v, ns, od);
            for (size_t s = 0; rc == CM_OK && s < ns; s++)
                truncate_row(v + s * od, outs[k] + items[i0 + s].index * m->set.dim, m->set.dim, ps[k].normalize);
        }
        i0 = i1;
    }
    free(pooled);
    free(dbuf);
    for (size_t i = 0; items && i < n; i++) free(items[i].ids);
    free(items);
    free(ps);
    return rc;
}

int cm_hf_encode(cm_hf_model *m, const char *const *texts, size_t n, cm_role role, const char *instruction,
                 float *out) {
    cm_pool_spec p = {CM_POOL_DEFAULT, -1, -1};
    float *outs[1] = {out};
    return cm_hf_encode_multi(m, texts, n, role, instruction, &p, 1, outs);
}
