/*
 * hf_backend.c: the `hf:PATH` backend (backend.h) over hf_model.h: loads a
 * Hugging Face model folder with the native engine and reports model_meta
 * information (name, revision, dim, max tokens, parameters, fingerprint).
 */
#include "engine/backend.h"

#include "cmteb/log.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/hf/hf_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct hf_state {
    cm_hf_model *m;
    char        *name;
    char        *revision;
} hf_state;

static void be_free(void *state) {
    hf_state *s = state;
    if (!s) return;
    cm_hf_model_free(s->m);
    free(s->name);
    free(s->revision);
    free(s);
}

char *cm_hf_folder_model_name(const char *dir) {
    char *cfgp = cm_path_join(dir, "config.json");
    char *text = NULL, *name = NULL;
    size_t len = 0;
    if (cfgp && cm_read_file(cfgp, &text, &len) == CM_OK) {
        cJSON *j = cJSON_ParseWithLength(text, len);
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "_name_or_path");
        if (cJSON_IsString(n) && strchr(n->valuestring, '/') && n->valuestring[0] != '/' &&
            n->valuestring[0] != '.' && !strchr(strchr(n->valuestring, '/') + 1, '/'))
            name = cm_strdup(n->valuestring);
        cJSON_Delete(j);
    }
    cm_error_clear();   /* no readable config.json: the folder name below */
    free(text);
    free(cfgp);
    if (name) return name;
    char *copy = cm_strdup(dir);
    if (!copy) return NULL;
    size_t l = strlen(copy);
    while (l > 1 && copy[l - 1] == '/') copy[--l] = '\0';
    name = cm_asprintf("local/%s", cm_path_basename(copy));
    free(copy);
    return name;
}

char *cm_hf_folder_revision(const char *dir) {
    const char *p = strstr(dir, "/snapshots/");
    if (!p) return NULL;
    p += strlen("/snapshots/");
    size_t n = 0;
    while (p[n] && p[n] != '/' && strchr("0123456789abcdef", p[n])) n++;
    return n == 40 ? cm_strndup(p, 40) : NULL;
}

static int be_init(void **state, const char *arg, const cm_encoder_params *params, cm_encoder_info *info) {
    *state = NULL;
    if (!arg || !*arg) return cm_error(CM_ERR_ARG, "hf: expected hf:PATH (a Hugging Face model folder)");
    hf_state *s = cm_calloc(1, sizeof *s);
    if (!s) return CM_ERR_NOMEM;
    int rc = cm_hf_model_load(&s->m, arg, params, 1);
    if (rc == CM_OK) {
        s->name = params && params->model_name ? cm_strdup(params->model_name) : cm_hf_folder_model_name(arg);
        /* Matryoshka truncation files results under their own name: "org/model-dimN" (--model-name wins) */
        const cm_hf_settings *st = cm_hf_model_settings(s->m);
        if (s->name && !(params && params->model_name) && st->dim < (size_t)cm_hf_model_config(s->m)->out_dim) {
            char *suffixed = cm_asprintf("%s-dim%zu", s->name, st->dim);
            free(s->name);
            s->name = suffixed;
        }
        s->revision = cm_hf_folder_revision(arg);
        if (!s->name) rc = CM_ERR_NOMEM;
    }
    if (rc) {
        be_free(s);
        return rc;
    }
    const cm_hf_config *c = cm_hf_model_config(s->m);
    const cm_hf_settings *set = cm_hf_model_settings(s->m);
    int64_t np = -1, bytes = -1;
    cm_hf_model_arch(s->m)->footprint(c, &np, &bytes);
    info->name = s->name;
    info->revision = s->revision;   /* NULL -> "no_revision_available" */
    info->loader = "hf";
    info->fingerprint = cm_hf_model_fingerprint(s->m);
    info->dim = set->dim;
    info->max_tokens = (int64_t)set->max_length;
    info->n_parameters = np;
    info->uses_instructions = set->query_template || set->document_template;
    const char *dev = cm_hf_model_device(s->m);
    info->device = dev;
    info->dtype = cm_hf_model_dtype(s->m);
    cm_cpu_dtype cdt = cm_hf_model_cpu_dtype(s->m);
    if (!(params && params->quiet))
        cm_log(CM_LOG_INFO, "hf: %s (%s, %lld layers, hidden %lld), pooling %s%s%s, max_length %zu, %d threads%s%s%s%s",
                arg, c->model_type, (long long)c->n_layers, (long long)c->hidden, cm_pool_name(set->pool.kind),
                set->pool.exclude_instr ? " (instruction excluded)" : "", set->pool.normalize ? " + L2" : "",
                set->max_length, set->threads, strcmp(dev, "cpu") ? ", on " : "", strcmp(dev, "cpu") ? dev : "",
                strcmp(dev, "cpu") ? " in " : "", strcmp(dev, "cpu") ? cm_hf_model_dtype(s->m) : "");
    if (cdt != CM_CPU_FP32 && !(params && params->quiet))
        cm_log(CM_LOG_INFO, "hf: Linear layers in %s on the CPU (%s)", info->dtype, cm_cpu_dtype_backend(cdt));
    *state = s;
    return CM_OK;
}

static int be_encode(void *state, const char *const *texts, size_t n, cm_role role, const char *instruction,
                     float *out) {
    hf_state *s = state;
    return cm_hf_encode(s->m, texts, n, role, instruction, out);
}

int cm_pool_check(const char *pooling) {
    cm_pool_kind k;
    return pooling ? cm_pool_parse(pooling, &k) : CM_OK;
}

/* One forward pass, every pooling (cm_hf_encode_multi). */
static int be_encode_pools(void *state, const char *const *texts, size_t n, cm_role role, const char *instruction,
                           const cm_pool_params *pools, size_t npools, float *const *outs) {
    hf_state *s = state;
    cm_pool_spec *ps = cm_malloc(npools * sizeof *ps);
    if (!ps) return CM_ERR_NOMEM;
    int rc = CM_OK;
    for (size_t k = 0; k < npools && !rc; k++) {
        ps[k].kind = CM_POOL_DEFAULT;
        ps[k].exclude_instr = pools[k].pool_instruction < 0 ? -1 : !pools[k].pool_instruction;
        ps[k].normalize = pools[k].normalize < 0 ? -1 : !!pools[k].normalize;
        if (pools[k].pooling) rc = cm_pool_parse(pools[k].pooling, &ps[k].kind);
    }
    if (!rc) rc = cm_hf_encode_multi(s->m, texts, n, role, instruction, ps, npools, outs);
    free(ps);
    return rc;
}

static int be_describe(const char *arg, const cm_encoder_params *params, int open_weights, cJSON *out) {
    if (!arg || !*arg) return cm_error(CM_ERR_ARG, "hf: expected hf:PATH (a model folder)");
    return cm_hf_describe(arg, params, open_weights, out);
}

const cm_backend_i cm_backend_hf = {
    .scheme = "hf",
    .usage = "hf:PATH      native engine over a Hugging Face model folder (BERT, RoBERTa, MPNet, ...)",
    .supported = CM_OPT_POOLING | CM_OPT_ATTENTION | CM_OPT_NORMALIZE | CM_OPT_MAX_LENGTH | CM_OPT_POOL_INSTRUCTION |
                 CM_OPT_QUERY_TEMPLATE | CM_OPT_DOCUMENT_TEMPLATE | CM_OPT_BATCH_SIZE | CM_OPT_THREADS |
                 CM_OPT_DEVICE_CUDA | CM_OPT_DIM | CM_OPT_DTYPE,
    .init = be_init, .encode = be_encode, .free = be_free,
    .encode_pools = be_encode_pools,
    .describe = be_describe,
};
