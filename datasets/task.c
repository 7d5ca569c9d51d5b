/* task.c: parsing task objects and the task catalog (see task.h). */
#include "cmteb/task.h"
#include "cmteb/hub.h"
#include "cmteb/array.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct { const char *name; const char *data; size_t size; } cm_embedded_file;
extern const cm_embedded_file cm_builtin_catalog[];

const char *cm_task_type_name(cm_task_type t) {
    return (unsigned)t < CM_TASK_TYPE_COUNT ? cm_task_types[t].name : "unknown";
}

int cm_task_type_parse(const char *s, cm_task_type *out) {
    for (int i = 0; i < CM_TASK_TYPE_COUNT; i++)
        if (!strcasecmp(s, cm_task_types[i].name)) { *out = (cm_task_type)i; return CM_OK; }
    return cm_error(CM_ERR_ARG, "unknown task type '%s' (expected Classification, Clustering, "
                    "PairClassification, Reranking, Retrieval, STS or Summarization)", s);
}

static void free_strv(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

void cm_task_free(cm_task *t) {
    if (!t) return;
    free(t->name); free(t->dataset_path); free(t->dataset_revision); free(t->data);
    for (size_t i = 0; t->dataset_files && t->dataset_files[i]; i++) free(t->dataset_files[i]);
    free(t->dataset_files);
    free(t->split); free(t->subset); free(t->main_score); free(t->leaderboard_metric);
    free(t->instruction); free(t->source);
    free_strv(t->languages, t->n_languages);
    free_strv(t->benchmarks, t->n_benchmarks);
    cm_task_settings_free(t->type, &t->settings);
    cJSON_Delete(t->settings_json);
    free(t);
}

/* Optional string field: absent or null -> NULL; any other non-string -> error. */
static int opt_str(const cJSON *obj, const char *key, char **out, const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v)) return CM_OK;
    if (!cJSON_IsString(v))
        return cm_error(CM_ERR_FORMAT, "%s: field '%s' must be a string", where, key);
    *out = cm_strdup(v->valuestring);
    return *out ? CM_OK : CM_ERR_NOMEM;
}

static int opt_strv(const cJSON *obj, const char *key, char ***out, size_t *n, const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    *n = 0;
    if (!v || cJSON_IsNull(v)) return CM_OK;
    if (cJSON_IsString(v)) {
        *out = cm_calloc(1, sizeof(char *));
        if (!*out || !((*out)[0] = cm_strdup(v->valuestring))) return CM_ERR_NOMEM;
        *n = 1;
        return CM_OK;
    }
    if (!cJSON_IsArray(v)) return cm_error(CM_ERR_FORMAT, "%s: field '%s' must be an array of strings", where, key);
    size_t len = (size_t)cJSON_GetArraySize(v);
    *out = cm_calloc(len + 1, sizeof(char *));
    if (!*out) return CM_ERR_NOMEM;
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        if (!cJSON_IsString(it))
            return cm_error(CM_ERR_FORMAT, "%s: field '%s' must be an array of strings", where, key);
        if (!((*out)[*n] = cm_strdup(it->valuestring))) return CM_ERR_NOMEM;
        (*n)++;
    }
    return CM_OK;
}

/* Top-level keys a task object may have. Task files are checked against this
 * list so that a misspelt key ("setings") is an error instead of being
 * silently ignored; the built-in catalog is checked by test_catalog. */
static const char *const known_keys[] = {
    "name", "type", "dataset", "data", "split", "subset", "main_score", "leaderboard_metric", "languages",
    "benchmarks", "instruction", "settings", "notes", "description", NULL,
};

static int check_keys(const cJSON *obj, const char *where) {
    const cJSON *it;
    cJSON_ArrayForEach(it, obj) {
        int ok = 0;
        for (int i = 0; known_keys[i] && !ok; i++) ok = !strcmp(it->string, known_keys[i]);
        if (!ok)
            return cm_error(CM_ERR_FORMAT, "%s: unknown field '%s' (expected name, type, dataset, data, split, subset, "
                            "main_score, leaderboard_metric, languages, benchmarks, instruction, settings, notes)",
                            where, it->string);
    }
    return CM_OK;
}

/* Keys of the "dataset" object (checked for every source: the catalog too). */
static int check_dataset_keys(const cJSON *ds, const char *where) {
    static const char *const keys[] = {"path", "revision", "revision_note", "files", NULL};
    const cJSON *it;
    cJSON_ArrayForEach(it, ds) {
        int ok = 0;
        for (int i = 0; keys[i] && !ok; i++) ok = !strcmp(it->string, keys[i]);
        if (!ok)
            return cm_error(CM_ERR_FORMAT, "%s: unknown field 'dataset.%s' (expected path, revision, revision_note, "
                            "files)", where, it->string);
    }
    const cJSON *note = cJSON_GetObjectItemCaseSensitive(ds, "revision_note");
    if (note && !cJSON_IsString(note))
        return cm_error(CM_ERR_FORMAT, "%s: field 'dataset.revision_note' must be a string", where);
    return CM_OK;
}

/* "dataset": {"files": [...]}: non-empty glob patterns relative to the repository root, no ".."
 * component and no leading '/', into a NULL-terminated array (*out stays NULL when absent). */
static int dataset_files(const cJSON *ds, char ***out, const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ds, "files");
    *out = NULL;
    if (!v || cJSON_IsNull(v)) return CM_OK;
    int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
    if (n <= 0)
        return cm_error(CM_ERR_FORMAT, "%s: field 'dataset.files' must be a non-empty array of glob patterns "
                        "(paths relative to the repository root, e.g. \"data/EN_*.tsv\")", where);
    char **f = cm_calloc((size_t)n + 1, sizeof *f);
    if (!f) return CM_ERR_NOMEM;
    *out = f;   /* owned by the task from here: freed with it on failure */
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        const char *s = cJSON_IsString(it) ? it->valuestring : NULL;
        if (!s || !*s || s[0] == '/' || !strcmp(s, "..") || !strncmp(s, "../", 3) || strstr(s, "/../") ||
            (strlen(s) >= 3 && !strcmp(s + strlen(s) - 3, "/..")))
            return cm_error(CM_ERR_FORMAT, "%s: field 'dataset.files' item %d: expected a glob pattern relative to "
                            "the repository root (non-empty, no leading '/', no '..' component)", where, i);
        if (!(f[i++] = cm_strdup(s))) return CM_ERR_NOMEM;
    }
    return CM_OK;
}

/* The name, split, subset and retrieval subsets become file and folder names
 * (results, side files, predictions, data files): each must be one path component. */
static int check_path_names(const cm_task *t, const char *where) {
    const char *fields[] = {"field 'name'", "field 'split'", "field 'subset'"};
    const char *values[] = {t->name, t->split, t->subset};
    for (size_t i = 0; i < 3; i++)
        if (values[i] && cm_path_component_check(values[i], fields[i]))
            return cm_error_wrap(CM_ERR_ARG, "%s", where);
    /* retrieval subsets are data folders ("mteb/cqadupstack-android"); the last component names run files */
    for (size_t i = 0; t->type == CM_TASK_RETRIEVAL && i < t->settings.retrieval.subsets.n; i++) {
        const char *sub = t->settings.retrieval.subsets.v[i];
        if (cm_path_component_check(cm_path_basename(sub), "its last component")) {
            char why[400];
            snprintf(why, sizeof why, "%s", cm_last_error());
            return cm_error(CM_ERR_ARG, "%s: field 'settings.subsets': '%s' must end in a folder name (the "
                            "predictions file is named after it): %s", where, sub, why);
        }
    }
    return CM_OK;
}

int cm_task_from_json(cm_task **out, const cJSON *obj, const char *base_dir, const char *source) {
    *out = NULL;
    char where[600];
    const cJSON *jname = cJSON_GetObjectItemCaseSensitive(obj, "name");
    if (!cJSON_IsObject(obj)) return cm_error(CM_ERR_FORMAT, "%s: a task must be a JSON object", source);
    if (!cJSON_IsString(jname) || !jname->valuestring[0])
        return cm_error(CM_ERR_FORMAT, "%s: task has no \"name\" (expected a non-empty string)", source);
    snprintf(where, sizeof where, "%s: task %s", source, jname->valuestring);
    int builtin = !strcmp(source, "builtin") || !strcmp(source, "demo");
    if (!builtin) CM_TRY(check_keys(obj, where));

    cm_task *t = cm_calloc(1, sizeof *t);
    if (!t) return CM_ERR_NOMEM;
    int rc = CM_OK;
    char *type = NULL, *data = NULL;
    if ((rc = opt_str(obj, "name", &t->name, where))) goto fail;
    if ((rc = opt_str(obj, "type", &type, where))) goto fail;
    if (!type) { rc = cm_error(CM_ERR_FORMAT, "%s: field 'type': missing (expected Classification, Clustering, "
                                "PairClassification, Reranking, Retrieval, STS or Summarization)", where); goto fail; }
    if ((rc = cm_task_type_parse(type, &t->type))) { rc = cm_error_wrap(rc, "%s: field 'type'", where); goto fail; }
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(obj, "dataset");
    if (cJSON_IsObject(ds)) {
        if ((rc = check_dataset_keys(ds, where))) goto fail;
        if ((rc = opt_str(ds, "path", &t->dataset_path, where))) goto fail;
        if ((rc = opt_str(ds, "revision", &t->dataset_revision, where))) goto fail;
        if ((rc = dataset_files(ds, &t->dataset_files, where))) goto fail;
    } else if (cJSON_IsString(ds)) {
        if (!(t->dataset_path = cm_strdup(ds->valuestring))) { rc = CM_ERR_NOMEM; goto fail; }
    } else if (ds && !cJSON_IsNull(ds)) {
        rc = cm_error(CM_ERR_FORMAT, "%s: field 'dataset' must be an object {\"path\", \"revision\"} or a string",
                      where);
        goto fail;
    }
    if ((rc = opt_str(obj, "data", &data, where))) goto fail;
    if (data) {
        t->data = data[0] == '/' || !base_dir ? cm_strdup(data) : cm_path_join(base_dir, data);
        if (!t->data) { rc = CM_ERR_NOMEM; goto fail; }
    }
    if (!t->dataset_path && !t->data) {
        rc = cm_error(CM_ERR_FORMAT, "%s: needs \"data\" (a folder relative to the task file) or \"dataset\"", where);
        goto fail;
    }
    if ((rc = opt_str(obj, "split", &t->split, where))) goto fail;
    if (!t->split && !(t->split = cm_strdup("test"))) { rc = CM_ERR_NOMEM; goto fail; }
    if ((rc = opt_str(obj, "subset", &t->subset, where))) goto fail;
    if (t->subset && !strcmp(t->subset, "default")) { free(t->subset); t->subset = NULL; }
    if ((rc = opt_str(obj, "main_score", &t->main_score, where))) goto fail;
    if (!t->main_score && !(t->main_score = cm_strdup(cm_task_types[t->type].default_main_score))) {
        rc = CM_ERR_NOMEM;
        goto fail;
    }
    if ((rc = opt_str(obj, "leaderboard_metric", &t->leaderboard_metric, where))) goto fail;
    if (!t->leaderboard_metric && !(t->leaderboard_metric = cm_strdup(cm_task_types[t->type].default_main_score))) {
        rc = CM_ERR_NOMEM;
        goto fail;
    }
    if ((rc = opt_str(obj, "instruction", &t->instruction, where))) goto fail;
    if ((rc = opt_strv(obj, "languages", &t->languages, &t->n_languages, where))) goto fail;
    if ((rc = opt_strv(obj, "benchmarks", &t->benchmarks, &t->n_benchmarks, where))) goto fail;
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(obj, "settings");
    if (st && !cJSON_IsNull(st) && !cJSON_IsObject(st)) {
        rc = cm_error(CM_ERR_FORMAT, "%s: field 'settings' must be an object", where);
        goto fail;
    }
    t->settings_json = st && cJSON_IsObject(st) ? cJSON_Duplicate(st, 1) : cJSON_CreateObject();
    if (!t->settings_json || !(t->source = cm_strdup(source))) { rc = CM_ERR_NOMEM; goto fail; }
    /* strings in t->settings borrow from t->settings_json */
    if ((rc = cm_task_settings_parse(t->type, t->settings_json, where, &t->settings))) goto fail;
    if ((rc = check_path_names(t, where))) goto fail;
    free(type);
    free(data);
    *out = t;
    return CM_OK;
fail:
    free(type);
    free(data);
    cm_task_free(t);
    return rc;
}

char *cm_task_data_folder(const cm_task *t, const char *data_dir) {
    if (t->data) return cm_strdup(t->data);
    if (t->source && !strcmp(t->source, "demo")) return cm_path_join(cm_demo_dir(), t->dataset_path);
    return cm_hub_task_folder(data_dir, t->dataset_path, t->dataset_revision);   /* DATA_DIR, else the hub cache */
}

/* ---- catalog ------------------------------------------------------------- */
struct cm_catalog {
    cm_task **tasks;
    size_t    n, cap;
};

static int catalog_push(cm_catalog *c, cm_task *t) {
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->tasks[i]->name, t->name)) {
            int rc = cm_error(CM_ERR_FORMAT, "%s: task %s: duplicate name (already defined by %s)", t->source,
                              t->name, !strcmp(c->tasks[i]->source, "builtin") ? "the built-in catalog"
                                                                               : c->tasks[i]->source);
            cm_task_free(t);
            return rc;
        }
    if (cm_array_push(c->tasks, c->n, c->cap, t)) {
        cm_task_free(t);
        return CM_ERR_NOMEM;
    }
    return CM_OK;
}

/* Adds every task object in JSON text (one object or an array). */
static int catalog_add_json(cm_catalog *c, const char *text, const char *base_dir, const char *source) {
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        size_t line = 1;
        for (const char *p = text; end && p < end; p++) line += *p == '\n';
        return cm_error(CM_ERR_FORMAT, "%s:%zu: invalid JSON (expected a task object or an array of task objects)",
                        source, line);
    }
    const char *dup = cm_json_duplicate_key(root);
    if (dup) {
        int rc = cm_error(CM_ERR_FORMAT, "%s: duplicate key '%s' in one JSON object (readers disagree on which "
                          "one counts: keep one)", source, dup);
        cJSON_Delete(root);
        return rc;
    }
    int rc = CM_OK;
    const cJSON *tasks = root;
    if (cJSON_IsObject(root) && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "tasks")))
        tasks = cJSON_GetObjectItemCaseSensitive(root, "tasks");
    if (cJSON_IsObject(tasks)) {
        cm_task *t;
        if (!(rc = cm_task_from_json(&t, tasks, base_dir, source))) rc = catalog_push(c, t);
    } else if (cJSON_IsArray(tasks)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, tasks) {
            cm_task *t;
            if ((rc = cm_task_from_json(&t, it, base_dir, source))) break;
            if ((rc = catalog_push(c, t))) break;
        }
    } else {
        rc = cm_error(CM_ERR_FORMAT, "%s: expected a task object or an array of task objects", source);
    }
    cJSON_Delete(root);
    return rc;
}

int cm_catalog_init(cm_catalog **out) {
    *out = NULL;
    cm_catalog *c = cm_calloc(1, sizeof *c);
    if (!c) return CM_ERR_NOMEM;
    for (const cm_embedded_file *f = cm_builtin_catalog; f->name; f++) {
        /* demo*.json holds the demo tasks; their data lives in the demo folder. */
        const char *source = !strncmp(f->name, "demo", 4) ? "demo" : "builtin";
        int rc = catalog_add_json(c, f->data, NULL, source);
        if (rc) {
            cm_catalog_free(c);
            return cm_error_wrap(rc, "built-in catalog %s", f->name);
        }
    }
    *out = c;
    return CM_OK;
}

int cm_catalog_add_file(cm_catalog *c, const char *path) {
    char *text = NULL;
    struct stat st;
    if (stat(path, &st) != 0) return cm_error(CM_ERR_IO, "%s: cannot open task file: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return cm_error(CM_ERR_ARG, "%s: not a regular file (a task file must be a JSON file)", path);
    CM_TRY(cm_read_file_max(path, &text, NULL, CM_READ_MAX_JSON));
    char *dir = cm_path_dirname(path);
    size_t before = c->n;
    int rc = dir ? catalog_add_json(c, text, dir, path) : CM_ERR_NOMEM;
    /* all or nothing: a file with one bad task adds none of its tasks */
    if (rc)
        while (c->n > before) cm_task_free(c->tasks[--c->n]);
    free(dir);
    free(text);
    return rc;
}

size_t cm_catalog_count(const cm_catalog *c) { return c->n; }
const cm_task *cm_catalog_get(const cm_catalog *c, size_t i) { return i < c->n ? c->tasks[i] : NULL; }

const cm_task *cm_catalog_find(const cm_catalog *c, const char *name) {
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->tasks[i]->name, name)) return c->tasks[i];
    for (size_t i = 0; i < c->n; i++)
        if (!strcasecmp(c->tasks[i]->name, name)) return c->tasks[i];
    return NULL;
}

static const char *canonical_benchmark(const char *b) {
    if (!strcasecmp(b, "MTEB(eng, v1)") || !strcasecmp(b, "MTEB(eng, classic)") || !strcasecmp(b, "MTEB") ||
        !strcasecmp(b, "MTEB(eng,v1)") || !strcasecmp(b, "mteb-eng-v1"))
        return "MTEB(eng, v1)";
    return b;
}

int cm_catalog_benchmark(const cm_catalog *c, const char *bench, const cm_task ***tasks, size_t *n) {
    *tasks = NULL;
    *n = 0;
    const char *want = canonical_benchmark(bench);
    const cm_task **v = cm_calloc(c->n + 1, sizeof *v);
    if (!v) return CM_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = 0; j < c->tasks[i]->n_benchmarks; j++)
            if (!strcasecmp(c->tasks[i]->benchmarks[j], want)) { v[k++] = c->tasks[i]; break; }
    if (k == 0) {
        free(v);
        cm_str known = {0};
        for (size_t i = 0; i < c->n; i++)
            for (size_t j = 0; j < c->tasks[i]->n_benchmarks; j++) {
                const char *b = c->tasks[i]->benchmarks[j];
                if (!known.s || !strstr(known.s, b)) {
                    if (known.len) cm_str_append(&known, ", ");
                    cm_str_printf(&known, "\"%s\"", b);
                }
            }
        int rc = cm_error(CM_ERR_NOTFOUND, "unknown benchmark \"%s\" (known: %s)", bench, known.s ? known.s : "none");
        cm_str_free(&known);
        return rc;
    }
    *tasks = v;
    *n = k;
    return CM_OK;
}

const char *cm_demo_dir(void) {
    static char buf[4096];
    const char *env = getenv("CMTEB_DEMO_DIR");
    if (env && *env) return env;
    /* Installed share folder first, then the source tree this binary was built from. */
    char exe[2048];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, sizeof buf, "%s/../share/cmteb/demo", exe);
            if (cm_dir_exists(buf)) return buf;
        }
    }
    if (cm_dir_exists(CMTEB_INSTALL_DATADIR "/demo")) return CMTEB_INSTALL_DATADIR "/demo";
    return CMTEB_SOURCE_DIR "/datasets/demo";
}

cm_task_selection cm_task_default_selection(void) {
    cm_task_selection s = {NULL, NULL, CM_TASK_TYPE_COUNT, 0};
    return s;
}

/* Appends t to sel unless it is there already. */
static int select_add(const cm_task ***sel, size_t *n, size_t *cap, const cm_task *t) {
    for (size_t i = 0; i < *n; i++)
        if ((*sel)[i] == t) return CM_OK;
    return cm_array_push(*sel, *n, *cap, t);
}

int cm_catalog_select(const cm_catalog *c, const cm_task_selection *s, const cm_task ***out, size_t *n) {
    *out = NULL;
    *n = 0;
    const cm_task **sel = NULL, **list = NULL;
    size_t n_sel = 0, cap = 0, n_list = 0;
    int rc = CM_OK;
    if (s->tasks) {
        char *copy = cm_strdup(s->tasks), *save = NULL;
        if (!copy) return CM_ERR_NOMEM;
        for (char *tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ') tok++;
            size_t len = strlen(tok);
            while (len && tok[len - 1] == ' ') tok[--len] = '\0';
            if (!*tok) continue;
            const cm_task *t = cm_catalog_find(c, tok);
            rc = t ? select_add(&sel, &n_sel, &cap, t)
                   : cm_error(CM_ERR_NOTFOUND, "unknown task '%s' (see cmteb list)", tok);
        }
        free(copy);
    }
    if (!rc && s->benchmark) {
        rc = cm_catalog_benchmark(c, s->benchmark, &list, &n_list);
        for (size_t i = 0; i < n_list && !rc; i++) rc = select_add(&sel, &n_sel, &cap, list[i]);
        free((void *)list);
    }
    if (!rc && !s->tasks && !s->benchmark)
        for (size_t i = s->files_from; i < cm_catalog_count(c) && !rc; i++)
            rc = select_add(&sel, &n_sel, &cap, cm_catalog_get(c, i));
    if (!rc && s->type != CM_TASK_TYPE_COUNT) {
        size_t k = 0;
        for (size_t i = 0; i < n_sel; i++)
            if (sel[i]->type == s->type) sel[k++] = sel[i];
        n_sel = k;
    }
    if (!rc && n_sel == 0) rc = cm_error(CM_ERR_NOTFOUND, "no task selected");
    if (rc) {
        free((void *)sel);
        return rc;
    }
    *out = sel;
    *n = n_sel;
    return CM_OK;
}

void cm_catalog_free(cm_catalog *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) cm_task_free(c->tasks[i]);
    free(c->tasks);
    free(c);
}
