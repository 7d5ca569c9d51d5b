/* shard.c: a shard run's manifest and per-task records (see shard.h); the merge is in shard_merge.c. */
#include "eval/shard.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

int cm_shard_parse(const char *spec, size_t *i, size_t *n) {
    char *end = NULL;
    errno = 0;
    unsigned long a = spec ? strtoul(spec, &end, 10) : 0;
    int ok = spec && end != spec && *end == '/' && !errno && spec[0] >= '0' && spec[0] <= '9';
    const char *b0 = ok ? end + 1 : NULL;
    unsigned long b = ok ? strtoul(b0, &end, 10) : 0;
    ok = ok && end != b0 && !*end && !errno && b0[0] >= '0' && b0[0] <= '9' && b >= 1 && b <= 65536 && a < b;
    if (!ok)
        return cm_error(CM_ERR_ARG, "--shard '%s': expected I/N with 0 <= I < N <= 65536 (e.g. 0/4 for the first of "
                        "four shards)", spec ? spec : "");
    *i = a;
    *n = b;
    return CM_OK;
}

static char *shard_dir(const char *model_dir) { return cm_path_join(model_dir, ".cmteb/shard"); }

char *cm_shard_task_prefix(const char *model_dir, const char *task_name) {
    char *dir = shard_dir(model_dir), *clean = cm_path_component_clean(task_name);
    char *p = dir && clean ? cm_path_join(dir, clean) : NULL;
    free(dir);
    free(clean);
    return p;
}

char *cm_shard_task_path(const char *model_dir, const char *task_name) {
    char *prefix = cm_shard_task_prefix(model_dir, task_name);
    char *p = prefix ? cm_asprintf("%s.json", prefix) : NULL;
    free(prefix);
    return p;
}

/* Prints j to path atomically (creating its folder); takes nothing. */
static int write_json(const char *path, const cJSON *j) {
    char *text = j ? cJSON_Print(j) : NULL;
    char *dir = cm_path_dirname(path);
    int rc = text && dir ? cm_mkdir_p(dir) : CM_ERR_NOMEM;
    if (!rc) rc = cm_write_file_atomic(path, text, strlen(text));
    free(text);
    free(dir);
    return rc;
}

int cm_shard_write_manifest(const char *model_dir, size_t i, size_t n, const cm_task *const *tasks, size_t n_tasks,
                            const cm_encoder_info *info, const cm_eval_options *options, int keep_items) {
    cJSON *m = cJSON_CreateObject(), *arr = cJSON_CreateArray();
    size_t mark = cm_alloc_failures();
    cJSON_AddStringToObject(m, "format", "cmteb-shard 1");
    cJSON_AddNumberToObject(m, "shard", (double)i);
    cJSON_AddNumberToObject(m, "of", (double)n);
    cJSON_AddStringToObject(m, "model_fingerprint", info->fingerprint ? info->fingerprint : "");
    cJSON_AddBoolToObject(m, "keep_items", keep_items);
    for (size_t k = 0; k < n_tasks; k++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "name", tasks[k]->name);
        cJSON_AddStringToObject(t, "type", cm_task_type_name(tasks[k]->type));
        /* task files by absolute path, so that cmteb merge finds them from any folder */
        const char *src = tasks[k]->source ? tasks[k]->source : "builtin";
        char *abs = strcmp(src, "builtin") && strcmp(src, "demo") ? realpath(src, NULL) : NULL;
        cJSON_AddStringToObject(t, "source", abs ? abs : src);
        free(abs);
        if (!cJSON_AddItemToArray(arr, t)) cJSON_Delete(t);
    }
    if (!cJSON_AddItemToObject(m, "tasks", arr)) cJSON_Delete(arr);
    cJSON *opts = cm_eval_options_to_json(options);
    if (!cJSON_AddItemToObject(m, "options", opts)) cJSON_Delete(opts);
    char *path = cm_path_join(model_dir, ".cmteb/shard.json");
    int rc = cm_alloc_failures() != mark || !m || !path ? CM_ERR_NOMEM : write_json(path, m);
    free(path);
    cJSON_Delete(m);
    return rc;
}

int cm_shard_write_task(const char *model_dir, const char *task_name, size_t i, size_t n, double seconds,
                        const cJSON *provenance) {
    cJSON *m = cJSON_CreateObject();
    size_t mark = cm_alloc_failures();
    cJSON_AddStringToObject(m, "task_name", task_name);
    cJSON_AddNumberToObject(m, "shard", (double)i);
    cJSON_AddNumberToObject(m, "of", (double)n);
    cJSON_AddNumberToObject(m, "evaluation_time", seconds);
    cJSON *prov = provenance ? cJSON_Duplicate(provenance, 1) : cJSON_CreateNull();
    if (!cJSON_AddItemToObject(m, "cmteb", prov)) cJSON_Delete(prov);
    char *path = cm_shard_task_path(model_dir, task_name);
    int rc = cm_alloc_failures() != mark || !m || !path ? CM_ERR_NOMEM : write_json(path, m);
    free(path);
    cJSON_Delete(m);
    return rc;
}

