/*
 * cmd_info.c: `cmteb info`: describes a model: architecture and sizes from
 * config.json, parameter count, weight dtypes and bytes (safetensors header
 * only; weights are never converted), memory footprint, tokenizer, and the
 * resolved embedding settings. Other backends print their cm_encoder_info.
 */
#include "eval/cli/cli.h"

#include "cmteb/encoder.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/hf/hf_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: cmteb info --model SPEC [--no-weights] [--json] [engine options]\n\n"
            "Describes a model. For hf:PATH: architecture, layers, hidden size, heads, vocabulary, parameters,\n"
            "weight dtypes and bytes, memory footprint, tokenizer, pooling and prompts. Nothing is converted or\n"
            "run; --no-weights does not even open the safetensors files (config-derived numbers only).\n"
            "Engine options (--pooling, --normalize, --max-length, ...) show how flags change the settings.\n");
}

static void kv(cJSON *j, int json, const char *key, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void kv(cJSON *j, int json, const char *key, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (json) cJSON_AddStringToObject(j, key, buf);
    else printf("%-14s %s\n", key, buf);
}

static int info_hf(const char *dir, const cm_encoder_params *p, int weights, int json) {
    cm_hf_model *m = NULL;
    CM_TRY(cm_hf_model_load(&m, dir, p, 0));
    const cm_hf_config *c = cm_hf_model_config(m);
    const cm_hf_settings *s = cm_hf_model_settings(m);
    const cm_hf_arch *a = cm_hf_model_arch(m);
    const cm_tokenizer *t = cm_hf_model_tokenizer(m);
    cJSON *j = cJSON_CreateObject();
    int64_t np = -1, f32 = -1;
    a->footprint(c, &np, &f32);
    kv(j, json, "model", "%s", dir);
    kv(j, json, "architecture", "%s (model_type %s, engine %s)", c->architecture[0] ? c->architecture : "?",
       c->model_type, a->name);
    kv(j, json, "layers", "%lld", (long long)c->n_layers);
    kv(j, json, "hidden", "%lld", (long long)c->hidden);
    kv(j, json, "heads", "%lld (head_dim %lld, kv_heads %lld)", (long long)c->n_heads, (long long)c->head_dim,
       (long long)c->n_kv_heads);
    kv(j, json, "intermediate", "%lld", (long long)c->intermediate);
    kv(j, json, "vocab", "%lld", (long long)c->vocab_size);
    kv(j, json, "max_positions", "%lld", (long long)c->max_positions);
    kv(j, json, "activation", "%s", c->hidden_act);
    kv(j, json, "embedding_dim", "%lld", (long long)c->out_dim);
    kv(j, json, "parameters", "%lld", (long long)np);
    kv(j, json, "params_as_f32", "%lld bytes (all parameters held as float32%s)", (long long)f32,
       a->describe ? "; see the lines below for what this engine keeps" : ", as this engine keeps them");
    int rc = CM_OK;
    if (weights) {
        cm_safetensors *st = NULL;
        if (cm_st_open(&st, dir) != CM_OK) {
            kv(j, json, "weights_file", "none (%s; config-derived numbers only)", cm_last_error());
            cm_error_clear();
        } else {
            size_t cnt[4] = {0}, bytes[4] = {0};
            for (size_t i = 0; i < cm_st_count(st); i++) {
                const cm_st_tensor *x = cm_st_at(st, i);
                cnt[x->dtype]++;
                bytes[x->dtype] += x->nbytes;
            }
            cm_str d = {0};
            for (int k = 0; k < 4; k++)
                if (cnt[k]) cm_str_printf(&d, "%s%s: %zu tensors, %zu bytes", d.len ? "; " : "",
                                          cm_st_dtype_str((cm_st_dtype)k), cnt[k], bytes[k]);
            kv(j, json, "weights_file", "%s (%zu bytes of tensor data)", d.s ? d.s : "none", cm_st_data_bytes(st));
            cm_str_free(&d);
            cm_st_free(st);
        }
    }
    if (rc == CM_OK) {
        size_t act1k = 0;
        if (!strcmp(a->name, "bert"))
            act1k = 1000 * (size_t)(6 * c->hidden + c->intermediate) * sizeof(float);
        if (act1k) kv(j, json, "activations", "%zu bytes per 1000 packed tokens (forward scratch + hidden states)", act1k);
        kv(j, json, "tokenizer", "%s, %zu tokens, %zu special tokens per text", cm_tokenizer_model_type(t),
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
        kv(j, json, "pooling", "%s%s%s%s", cm_pool_name(s->pool.kind), s->pool.exclude_instr ? " (prompt excluded)" : "",
           dense, s->pool.normalize ? " + L2 normalize" : "");
        kv(j, json, "attention", "%s", s->attention == CM_ATTN_CAUSAL ? "causal" : "bidirectional");
        kv(j, json, "max_length", "%zu", s->max_length);
        kv(j, json, "prompts", "query \"%s\", document \"%s\"", s->query_prompt, s->document_prompt);
        if (s->query_template) kv(j, json, "query_template", "%s", s->query_template);
        kv(j, json, "fingerprint", "%s", cm_hf_model_fingerprint(m));
        if (a->describe) {
            cm_str extra = {0};
            /* the config object is re-read by the hook from dir; pass what we have */
            char *cp = cm_path_join(dir, "config.json");
            char *text = NULL;
            size_t len = 0;
            if (cp && cm_read_file(cp, &text, &len) == CM_OK) {
                cJSON *cfg = cJSON_ParseWithLength(text, len);
                if (cfg && a->describe(cfg, dir, &extra) == CM_OK && extra.s) {
                    if (json) cJSON_AddStringToObject(j, "details", extra.s);
                    else printf("%s%s", extra.s, extra.s[extra.len ? extra.len - 1 : 0] == '\n' ? "" : "\n");
                }
                cJSON_Delete(cfg);
            }
            free(text);
            free(cp);
            cm_str_free(&extra);
        }
    }
    if (rc == CM_OK && json) {
        char *out = cJSON_Print(j);
        printf("%s\n", out ? out : "{}");
        free(out);
    }
    cJSON_Delete(j);
    cm_hf_model_free(m);
    return rc;
}

int cm_cmd_info(int argc, char **argv) {
    const char *model = NULL, *v = NULL;
    cm_encoder_params p = cm_encoder_default_params();
    int json = 0, weights = 1, bad = 0;
    p.quiet = 1;
    for (int i = 1; i < argc && !bad; i++) {
        if (cm_opt_flag(argv, i, "--help") || cm_opt_flag(argv, i, "-h")) { usage(stdout); return 0; }
        else if (cm_opt_value(argc, argv, &i, "--model", &model, &bad)) {}
        else if (cm_opt_flag(argv, i, "--json")) json = 1;
        else if (cm_opt_flag(argv, i, "--no-weights")) weights = 0;
        else if (cm_opt_value(argc, argv, &i, "--pooling", &p.pooling, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--attention", &p.attention, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--query-template", &p.query_template, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--document-template", &p.document_template, &bad)) {}
        else if (cm_opt_flag(argv, i, "--normalize")) p.normalize = 1;
        else if (cm_opt_flag(argv, i, "--no-normalize")) p.normalize = 0;
        else if (cm_opt_flag(argv, i, "--no-pool-instruction")) p.pool_instruction = 0;
        else if (cm_opt_flag(argv, i, "--pool-instruction")) p.pool_instruction = 1;
        else if (cm_opt_value(argc, argv, &i, "--max-length", &v, &bad)) { long x = cm_opt_long("--max-length", v); if (x < 0) return 2; p.max_length = (int)x; }
        else {
            char msg[300];
            snprintf(msg, sizeof msg, "unknown option '%s'", argv[i]);
            return cm_cli_usage_error("info", msg);
        }
    }
    if (bad) return 2;
    if (!model) return cm_cli_usage_error("info", "--model is required");
    if (!strncmp(model, "hf:", 3)) {
        if (info_hf(model + 3, &p, weights, json)) return cm_cli_fail("info", NULL);
        return 0;
    }
    cm_encoder *e = NULL;
    if (cm_encoder_init(&e, model, &p)) return cm_cli_fail("info", NULL);
    const cm_encoder_info *in = cm_encoder_get_info(e);
    cJSON *j = cJSON_CreateObject();
    kv(j, json, "model", "%s", in->name);
    kv(j, json, "loader", "%s", in->loader);
    kv(j, json, "revision", "%s", in->revision);
    kv(j, json, "embedding_dim", "%zu", in->dim);
    kv(j, json, "max_tokens", "%lld", (long long)in->max_tokens);
    kv(j, json, "parameters", "%lld", (long long)in->n_parameters);
    kv(j, json, "fingerprint", "%s", in->fingerprint);
    if (json) {
        char *out = cJSON_Print(j);
        printf("%s\n", out ? out : "{}");
        free(out);
    }
    cJSON_Delete(j);
    cm_encoder_free(e);
    return 0;
}
