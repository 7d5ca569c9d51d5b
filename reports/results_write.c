/* results_write.c: writing results in the current MTEB layout (see results.h). */
#include "cmteb/results.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdlib.h>
#include <string.h>

/* The mteb version whose evaluator semantics cmteb reproduces (v1 evaluators,
 * current results layout); MTEB's loaders parse this field as a version. */
#define CM_MTEB_SEMANTICS_VERSION "1.12.0"

/* Every name joined into a path goes through cm_path_component_clean: it stays one component. */
char *cm_results_model_dir(const char *output_dir, const char *model_name, const char *revision) {
    char *m = cm_path_component_clean(model_name);
    char *r = cm_path_component_clean(revision && *revision ? revision : "no_revision_available");
    char *out = m && r ? cm_asprintf("%s/%s/%s", output_dir, m, r) : NULL;
    free(m);
    free(r);
    return out;
}

char *cm_results_task_path(const char *model_dir, const char *task_name) {
    char *t = cm_path_component_clean(task_name);
    char *out = t ? cm_asprintf("%s/%s.json", model_dir, t) : NULL;
    free(t);
    return out;
}

/* JSON with 2-space indentation, as Python's json.dump(indent=2) writes
 * MTEB's files; numbers in the shortest form that reads back exactly. */
static void put_string(cm_str *b, const char *s) {
    cm_str_append(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':  cm_str_append(b, "\\\""); break;
        case '\\': cm_str_append(b, "\\\\"); break;
        case '\n': cm_str_append(b, "\\n"); break;
        case '\r': cm_str_append(b, "\\r"); break;
        case '\t': cm_str_append(b, "\\t"); break;
        default:
            if (*p < 0x20) cm_str_printf(b, "\\u%04x", *p);
            else cm_str_appendn(b, (const char *)p, 1);
        }
    }
    cm_str_append(b, "\"");
}

static void put_number(cm_str *b, double d, int floats) {
    /* JSON has no NaN or Infinity: a degenerate metric is null (readers treat it as missing) */
    if (d != d || d > 1.7976931348623157e308 || d < -1.7976931348623157e308) { cm_str_append(b, "null"); return; }
    /* integral values print as integers, except metric values, which Python
     * writes as floats ("1.0") */
    if (d == (double)(long long)d && d > -1e15 && d < 1e15) {
        cm_str_printf(b, floats ? "%lld.0" : "%lld", (long long)d);
        return;
    }
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) break;
    }
    cm_str_append(b, buf);
}

static void put_json(cm_str *b, const cJSON *o, int depth, int floats) {
    if (cJSON_IsObject(o) || cJSON_IsArray(o)) {
        int obj = cJSON_IsObject(o);
        if (!o->child) { cm_str_append(b, obj ? "{}" : "[]"); return; }
        cm_str_append(b, obj ? "{\n" : "[\n");
        for (const cJSON *c = o->child; c; c = c->next) {
            for (int i = 0; i < 2 * (depth + 1); i++) cm_str_append(b, " ");
            if (obj) { put_string(b, c->string); cm_str_append(b, ": "); }
            put_json(b, c, depth + 1,
                     floats || (obj && (!strcmp(c->string, "scores") || !strcmp(c->string, "evaluation_time"))));
            cm_str_append(b, c->next ? ",\n" : "\n");
        }
        for (int i = 0; i < 2 * depth; i++) cm_str_append(b, " ");
        cm_str_append(b, obj ? "}" : "]");
    } else if (cJSON_IsString(o)) put_string(b, o->valuestring);
    else if (cJSON_IsNumber(o)) put_number(b, o->valuedouble, floats);
    else if (cJSON_IsTrue(o)) cm_str_append(b, "true");
    else if (cJSON_IsFalse(o)) cm_str_append(b, "false");
    else cm_str_append(b, "null");
}

static int write_json(const char *path, const cJSON *obj) {
    cm_str b = {0};
    put_json(&b, obj, 0, 0);
    cm_str_append(&b, "\n");
    /* A failed append leaves a prefix of the document: write nothing then. */
    if (cm_str_error(&b)) {
        cm_str_free(&b);
        return cm_error(CM_ERR_NOMEM, "out of memory printing %s", path);
    }
    int rc = cm_write_file_atomic(path, b.s, b.len);
    cm_str_free(&b);
    return rc;
}

int cm_results_write_model_meta(const char *model_dir, const cm_encoder_info *info, const cJSON *extra) {
    CM_TRY(cm_mkdir_p(model_dir));
    size_t failures = cm_alloc_failures();   /* the cJSON_Add* below drop members silently on failure */
    cJSON *o = cJSON_CreateObject();
    if (!o) return CM_ERR_NOMEM;
    cJSON_AddStringToObject(o, "name", info->name);
    cJSON_AddStringToObject(o, "revision", info->revision ? info->revision : "no_revision_available");
    cJSON_AddNumberToObject(o, "embed_dim", (double)info->dim);
    if (info->max_tokens >= 0) cJSON_AddNumberToObject(o, "max_tokens", (double)info->max_tokens);
    else cJSON_AddNullToObject(o, "max_tokens");
    if (info->n_parameters >= 0) cJSON_AddNumberToObject(o, "n_parameters", (double)info->n_parameters);
    else cJSON_AddNullToObject(o, "n_parameters");
    cJSON_AddStringToObject(o, "similarity_fn_name", "cosine");
    cJSON_AddBoolToObject(o, "use_instructions", info->uses_instructions);
    cJSON_AddStringToObject(o, "loader", info->loader ? info->loader : "unknown");
    cJSON_AddStringToObject(o, "framework", "cmteb");
    if (extra) {
        cJSON *d = cJSON_Duplicate(extra, 1);
        if (d && !cJSON_AddItemToObject(o, "cmteb", d)) cJSON_Delete(d);   /* the key's copy failed */
    }
    char *path = cm_alloc_failures() == failures ? cm_path_join(model_dir, "model_meta.json") : NULL;
    int rc = path ? write_json(path, o) : cm_error(CM_ERR_NOMEM, "out of memory building model_meta.json");
    free(path);
    cJSON_Delete(o);
    return rc;
}

int cm_results_write_task(const char *model_dir, const cm_task *task, const cJSON *scores,
                          double evaluation_time, const cJSON *provenance, const cJSON *items) {
    CM_TRY(cm_mkdir_p(model_dir));
    size_t failures = cm_alloc_failures();   /* the cJSON_Add* below drop members silently on failure */
    cJSON *o = cJSON_CreateObject();
    if (!o) return CM_ERR_NOMEM;
    cJSON_AddStringToObject(o, "dataset_revision",
                            task->dataset_revision ? task->dataset_revision : "no_revision_available");
    cJSON_AddStringToObject(o, "task_name", task->name);
    cJSON_AddStringToObject(o, "mteb_version", CM_MTEB_SEMANTICS_VERSION);
    cJSON *sc = cJSON_AddObjectToObject(o, "scores");
    cJSON *arr = cJSON_AddArrayToObject(sc, task->split);
    cJSON *entry = cJSON_Duplicate(scores, 1);
    if (!entry) { cJSON_Delete(o); return CM_ERR_NOMEM; }
    cJSON_DeleteItemFromObjectCaseSensitive(entry, "hf_subset");
    cJSON_DeleteItemFromObjectCaseSensitive(entry, "languages");
    cJSON_AddStringToObject(entry, "hf_subset", task->subset ? task->subset : "default");
    cJSON *langs = cJSON_AddArrayToObject(entry, "languages");
    for (size_t i = 0; i < (task->n_languages ? task->n_languages : 1); i++) {
        cJSON *lang = cJSON_CreateString(task->n_languages ? task->languages[i] : "eng-Latn");
        if (!cJSON_AddItemToArray(langs, lang)) cJSON_Delete(lang);   /* langs NULL: its allocation failed */
    }
    if (!cJSON_AddItemToArray(arr, entry)) cJSON_Delete(entry);   /* arr NULL: its allocation failed */
    cJSON_AddNumberToObject(o, "evaluation_time", evaluation_time);
    cJSON_AddNullToObject(o, "kg_co2_emissions");
    if (provenance) {
        cJSON *d = cJSON_Duplicate(provenance, 1);
        if (d && !cJSON_AddItemToObject(o, "cmteb", d)) cJSON_Delete(d);   /* the key's copy failed */
    }

    int rc = cm_alloc_failures() == failures
                 ? CM_OK
                 : cm_error(CM_ERR_NOMEM, "out of memory building the result of %s", task->name);
    if (!rc && items && cJSON_GetArraySize(items) > 0) {
        char *side = cm_path_join(model_dir, ".cmteb");
        char *clean = cm_path_component_clean(task->name);
        char *tname = side && clean ? cm_asprintf("%s/%s.items.json", side, clean) : NULL;
        free(clean);
        if (!tname) rc = CM_ERR_NOMEM;
        else if (!(rc = cm_mkdir_p(side))) {
            char *text = cJSON_PrintUnformatted(items);
            rc = text ? cm_write_file_atomic(tname, text, strlen(text)) : CM_ERR_NOMEM;
            free(text);
        }
        free(side);
        free(tname);
    }
    /* The side file goes first: a task file on disk means the task is complete. */
    if (!rc) {
        char *path = cm_results_task_path(model_dir, task->name);
        rc = path ? write_json(path, o) : CM_ERR_NOMEM;
        free(path);
    }
    cJSON_Delete(o);
    return rc;
}
