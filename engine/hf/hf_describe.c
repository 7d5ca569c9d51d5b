/*
 * hf_describe.c: what `cmteb info` shows of a model folder (see
 * cm_model_describe in cmteb/encoder.h): architecture and sizes from
 * config.json, parameter count, weight dtypes and bytes (safetensors header
 * only; weights are never converted), memory footprint, tokenizer, the
 * resolved embedding settings, and the device memory the weights need in each
 * GPU dtype with whether they fit each visible GPU.
 */
#include "engine/hf/hf_model.h"
#include "cmteb/status.h"
#include "engine/cuda/gpu_plan.h"
#include "cmteb/util.h"
#include "engine/nn/safetensors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Adds key: printf-formatted value; a failed allocation sticks in *rc. */
static void kv(cJSON *j, int *rc, const char *key, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void kv(cJSON *j, int *rc, const char *key, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (!*rc && !cJSON_AddStringToObject(j, key, buf)) *rc = cm_error(CM_ERR_NOMEM, "out of memory describing a model");
}

/* bytes as "123.4 MiB" / "12.3 GiB" into buf. */
static const char *human(size_t bytes, char *buf, size_t cap) {
    double b = (double)bytes;
    if (b >= 1024.0 * 1024 * 1024) snprintf(buf, cap, "%.1f GiB", b / (1024.0 * 1024 * 1024));
    else snprintf(buf, cap, "%.1f MiB", b / (1024.0 * 1024));
    return buf;
}

/* Device memory beyond the weights a replica needs to be useful: the CUDA context, cuBLAS workspaces and the
 * activations of a batch (the planner sizes batches to what is left). */
#define GPU_WORKING_BYTES ((size_t)1 << 30)

/* Adds "gpu_weights" (what the weights take on a GPU in each dtype: n_weights elements, counted from the
 * checkpoint or config.json) and one "gpu_fit" line per visible GPU. */
static void describe_gpu(cJSON *j, int *rc, size_t n_weights, const char *src) {
    char b16[32], b32[32];
    kv(j, rc, "gpu_weights", "bf16/fp16 %s, fp32 %s (%s; plus about %s working memory per GPU)",
       human(n_weights * 2, b16, sizeof b16), human(n_weights * 4, b32, sizeof b32), src,
       human(GPU_WORKING_BYTES, (char[32]){0}, 32));
    int n = 0;
    if (*rc) return;
    if (cm_gpu_count(&n) != CM_OK) {   /* no GPU list: nothing to fit against */
        cm_error_clear();
        return;
    }
    for (int i = 0; i < n && !*rc; i++) {
        cm_gpu_device d;
        if (cm_gpu_device_info(i, &d) != CM_OK) {
            cm_error_clear();
            continue;
        }
        size_t avail = d.mem_free ? d.mem_free : d.mem_total;
        char key[32], fr[32];
        snprintf(key, sizeof key, "gpu_fit cuda:%d", i);
        kv(j, rc, key, "%s, %s free: bf16 %s, fp16 %s, fp32 %s", d.name, human(avail, fr, sizeof fr),
           n_weights * 2 + GPU_WORKING_BYTES <= avail ? "fits" : "does not fit",
           n_weights * 2 + GPU_WORKING_BYTES <= avail ? "fits" : "does not fit",
           n_weights * 4 + GPU_WORKING_BYTES <= avail ? "fits" : "does not fit");
    }
}

int cm_hf_describe(const char *dir, const cm_encoder_params *p, int weights, cJSON *j) {
    cm_hf_model *m = NULL;
    CM_TRY(cm_hf_model_load(&m, dir, p, 0));
    int rc = CM_OK;
    const cm_hf_config *c = cm_hf_model_config(m);
    const cm_hf_settings *s = cm_hf_model_settings(m);
    const cm_hf_arch *a = cm_hf_model_arch(m);
    const cm_tokenizer *t = cm_hf_model_tokenizer(m);
    int64_t np = -1, f32 = -1;
    a->footprint(c, &np, &f32);
    kv(j, &rc, "model", "%s", dir);
    kv(j, &rc, "architecture", "%s (model_type %s, engine %s)", c->architecture[0] ? c->architecture : "?",
       c->model_type, a->name);
    kv(j, &rc, "layers", "%lld", (long long)c->n_layers);
    kv(j, &rc, "hidden", "%lld", (long long)c->hidden);
    kv(j, &rc, "heads", "%lld (head_dim %lld, kv_heads %lld)", (long long)c->n_heads, (long long)c->head_dim,
       (long long)c->n_kv_heads);
    kv(j, &rc, "intermediate", "%lld", (long long)c->intermediate);
    kv(j, &rc, "vocab", "%lld", (long long)c->vocab_size);
    kv(j, &rc, "max_positions", "%lld", (long long)c->max_positions);
    kv(j, &rc, "activation", "%s", c->hidden_act);
    if (s->dim < (size_t)c->out_dim)
        kv(j, &rc, "embedding_dim", "%zu (--dim: the first %zu of the model's %lld values%s)", s->dim, s->dim,
           (long long)c->out_dim, s->pool.normalize ? ", renormalised" : "");
    else
        kv(j, &rc, "embedding_dim", "%lld", (long long)c->out_dim);
    kv(j, &rc, "parameters", "%lld", (long long)np);
    size_t n_weights = np > 0 ? (size_t)np : 0;   /* float elements the GPU holds */
    const char *n_weights_src = "from config.json";
    kv(j, &rc, "params_as_f32", "%lld bytes (all parameters held as float32%s)", (long long)f32,
       a->describe ? "; see the lines below for what this engine keeps" : ", as this engine keeps them");
    if (weights) {
        cm_safetensors *st = NULL;
        int orc = cm_st_open(&st, dir);
        if (orc == CM_ERR_NOMEM) {
            rc = orc;
        } else if (orc != CM_OK) {
            kv(j, &rc, "weights_file", "none (%s; config-derived numbers only)", cm_last_error());
            cm_error_clear();
        } else {
            size_t cnt[4] = {0}, bytes[4] = {0}, numel = 0;
            for (size_t i = 0; i < cm_st_count(st); i++) {
                const cm_st_tensor *x = cm_st_at(st, i);
                cnt[x->dtype]++;
                bytes[x->dtype] += x->nbytes;
                if (x->dtype != CM_ST_OTHER) numel += (size_t)x->numel;
            }
            n_weights = numel;
            n_weights_src = "from the checkpoint's tensors";
            cm_str d = {0};
            for (int k = 0; k < 4; k++)
                if (cnt[k]) cm_str_printf(&d, "%s%s: %zu tensors, %zu bytes", d.len ? "; " : "",
                                          cm_st_dtype_str((cm_st_dtype)k), cnt[k], bytes[k]);
            kv(j, &rc, "weights_file", "%s (%zu bytes of tensor data)", d.s ? d.s : "none", cm_st_data_bytes(st));
            cm_str_free(&d);
            cm_st_free(st);
        }
    }
    if (rc == CM_OK) {
        size_t act1k = 0;
        if (!strcmp(a->name, "bert"))
            act1k = 1000 * (size_t)(6 * c->hidden + c->intermediate) * sizeof(float);
        if (act1k)
            kv(j, &rc, "activations", "%zu bytes per 1000 packed tokens (forward scratch + hidden states)", act1k);
        kv(j, &rc, "tokenizer", "%s, %zu tokens, %zu special tokens per text", cm_tokenizer_model_type(t),
           cm_tokenizer_vocab_size(t), cm_tokenizer_num_special(t));
        const cm_dense *dn = NULL;
        size_t nd = cm_hf_model_dense(m, &dn);
        char dense[512] = "";
        for (size_t i = 0; i < nd; i++) {
            char one[96];
            cm_dense_describe(&dn[i], one, sizeof one);
            size_t used = strlen(dense);
            snprintf(dense + used, sizeof dense - used, "%s%s", i ? ", " : " + Dense ", one);
        }
        kv(j, &rc, "pooling", "%s%s%s%s", cm_pool_name(s->pool.kind), s->pool.exclude_instr ? " (prompt excluded)" : "",
           dense, s->pool.normalize ? " + L2 normalize" : "");
        kv(j, &rc, "attention", "%s", s->attention == CM_ATTN_CAUSAL ? "causal" : "bidirectional");
        kv(j, &rc, "max_length", "%zu", s->max_length);
        kv(j, &rc, "prompts", "query \"%s\", document \"%s\"", s->query_prompt, s->document_prompt);
        if (s->query_template) kv(j, &rc, "query_template", "%s", s->query_template);
        kv(j, &rc, "device", "%s (%s)", cm_hf_model_device(m), cm_hf_model_dtype(m));
        cm_cpu_dtype cdt = cm_hf_model_cpu_dtype(m);
        if (cdt != CM_CPU_FP32)
            kv(j, &rc, "cpu_kernels", "Linear layers in %s: %s", cm_cpu_dtype_name(cdt), cm_cpu_dtype_backend(cdt));
        kv(j, &rc, "fingerprint", "%s", cm_hf_model_fingerprint(m));
        for (size_t i = 0; i < nd; i++) n_weights += dn[i].in * dn[i].out + (dn[i].has_bias ? dn[i].out : 0);
        describe_gpu(j, &rc, n_weights, n_weights_src);
        if (a->describe) {
            cm_str extra = {0};
            /* the config object is re-read by the hook from dir; pass what we have */
            char *cp = cm_path_join(dir, "config.json");
            char *text = NULL;
            size_t len = 0;
            if (cp && cm_read_file(cp, &text, &len) == CM_OK) {
                size_t failures = cm_alloc_failures();
                cJSON *cfg = cJSON_ParseWithLength(text, len);
                if (!cfg && cm_alloc_failures() != failures && !rc)
                    rc = cm_error(CM_ERR_NOMEM, "out of memory reading %s", cp);
                if (cfg && a->describe(cfg, dir, &extra) == CM_OK && extra.s && !rc &&
                    !cJSON_AddStringToObject(j, "details", extra.s))
                    rc = cm_error(CM_ERR_NOMEM, "out of memory describing a model");
                cJSON_Delete(cfg);
            }
            free(text);
            free(cp);
            cm_str_free(&extra);
        }
    }
    cm_hf_model_free(m);
    return rc;
}

