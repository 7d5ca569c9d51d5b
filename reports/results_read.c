/*
 * results_read.c: reads MTEB results files in the v1 and the current layout
 * and picks each task's leaderboard score, with the fallbacks and notes
 * results_read.h describes; finds model folders under a results root.
 */
#include "cmteb/results_read.h"
#include "cmteb/array.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

const char *cm_results_layout_name(cm_results_layout l) {
    switch (l) {
    case CM_LAYOUT_V1:      return "v1";
    case CM_LAYOUT_CURRENT: return "current";
    default:                return "unknown";
    }
}

/* Top-level keys of a v1 file that are not splits. */
static int is_meta_key(const char *k) {
    static const char *const keys[] = {"mteb_version", "dataset_revision", "mteb_dataset_name", "task_name",
                                       "evaluation_time", "kg_co2_emissions", "cmteb", "date", "scores", NULL};
    for (int i = 0; keys[i]; i++)
        if (!strcmp(k, keys[i])) return 1;
    return 0;
}

cm_results_layout cm_results_detect_layout(const cJSON *root) {
    if (!cJSON_IsObject(root)) return CM_LAYOUT_UNKNOWN;
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(root, "scores");
    if (cJSON_IsObject(sc)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, sc) if (cJSON_IsArray(it)) return CM_LAYOUT_CURRENT;
        if (!sc->child) return CM_LAYOUT_CURRENT;
    }
    /* v1: an object-valued split key, in a file with v1's bookkeeping keys or
     * under a usual split name (so other JSON files are not taken for results). */
    int has_meta = cJSON_HasObjectItem(root, "mteb_dataset_name") || cJSON_HasObjectItem(root, "mteb_version") ||
                   cJSON_HasObjectItem(root, "dataset_revision");
    static const char *const usual[] = {"test", "dev", "validation", "val", "train", NULL};
    const cJSON *it;
    cJSON_ArrayForEach(it, root) {
        if (!cJSON_IsObject(it) || !it->string || is_meta_key(it->string)) continue;
        if (has_meta) return CM_LAYOUT_V1;
        for (int i = 0; usual[i]; i++)
            if (!strcmp(it->string, usual[i])) return CM_LAYOUT_V1;
    }
    return CM_LAYOUT_UNKNOWN;
}

const char *cm_results_declared_task(const cJSON *root) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "task_name");
    if (cJSON_IsString(n) && n->valuestring[0]) return n->valuestring;
    n = cJSON_GetObjectItemCaseSensitive(root, "mteb_dataset_name");
    if (cJSON_IsString(n) && n->valuestring[0]) return n->valuestring;
    return NULL;
}

cm_score_spec cm_score_spec_for(const cm_task *t) {
    cm_score_spec s = {"test", NULL, "main_score"};
    if (!t) return s;
    s.split = t->split ? t->split : "test";
    s.subset = t->subset;
    s.metric = t->leaderboard_metric ? t->leaderboard_metric : t->main_score ? t->main_score : "main_score";
    return s;
}

void cm_task_score_clear(cm_task_score *s) {
    if (!s) return;
    free(s->task); free(s->key); free(s->split); free(s->subset); free(s->note); free(s->path);
    memset(s, 0, sizeof *s);
    s->value = NAN;
}

/* ---- metric lookup -------------------------------------------------------- */

/* entry[a][b] where a = name[0..cut) and b = name[cut+1..]; NULL if not a number. */
static const cJSON *nested_at(const cJSON *entry, const char *name, size_t cut, cm_str *key) {
    char head[128];
    if (cut == 0 || cut >= sizeof head) return NULL;
    memcpy(head, name, cut);
    head[cut] = '\0';
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(entry, head);
    if (!cJSON_IsObject(o)) return NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name + cut + 1);
    if (!cJSON_IsNumber(v)) return NULL;
    cm_str_printf(key, "%s.%s", head, name + cut + 1);
    return v;
}

/* One spelling: flat "name", or nested {"head": {"rest"}} at any '_' or '.'. */
static const cJSON *lookup_name(const cJSON *entry, const char *name, cm_str *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(entry, name);
    if (cJSON_IsNumber(v)) {
        cm_str_append(key, name);
        return v;
    }
    for (size_t i = 1; name[i]; i++)
        if (name[i] == '_' || name[i] == '.')
            if ((v = nested_at(entry, name, i, key))) return v;
    return NULL;
}

/* The spellings one metric had over mteb versions: cosine_X (m1.14+),
 * cos_sim_X (v1 nested / m1.12 flattened). */
static const char *const alias_groups[][3] = {
    {"cosine", "cos_sim", NULL},
    {"dot", "dot_score", NULL},
};

static const cJSON *find_metric(const cJSON *entry, const char *metric, cm_str *key) {
    const cJSON *v = lookup_name(entry, metric, key);
    if (v) return v;
    for (size_t g = 0; g < sizeof alias_groups / sizeof alias_groups[0]; g++) {
        for (int a = 0; alias_groups[g][a]; a++) {
            size_t lp = strlen(alias_groups[g][a]);
            if (strncmp(metric, alias_groups[g][a], lp) != 0 || metric[lp] != '_') continue;
            const char *rest = metric + lp + 1;
            for (int b = 0; alias_groups[g][b]; b++) {
                if (b == a) continue;
                char name[160];
                snprintf(name, sizeof name, "%s_%s", alias_groups[g][b], rest);
                if ((v = lookup_name(entry, name, key))) return v;
            }
        }
    }
    return NULL;
}

/* ---- split and subset ----------------------------------------------------- */

/* The splits of a file: children of "scores" (current) or object-valued
 * non-meta top-level keys (v1). */
static int is_split(const cJSON *it, cm_results_layout l) {
    if (!it->string) return 0;
    if (l == CM_LAYOUT_CURRENT) return cJSON_IsArray(it);
    return cJSON_IsObject(it) && !is_meta_key(it->string);
}

static void list_keys(cm_str *out, const cJSON *parent, cm_results_layout l, int splits) {
    const cJSON *it;
    int first = 1;
    cJSON_ArrayForEach(it, parent) {
        if (splits ? !is_split(it, l) : !cJSON_IsObject(it)) continue;
        cm_str_printf(out, "%s%s", first ? "" : ", ", it->string);
        first = 0;
    }
    if (first) cm_str_append(out, "none");
}

static int set_note(cm_task_score *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int set_note(cm_task_score *out, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) return cm_error(CM_ERR_NOMEM, "out of memory");
    if (out->note) {
        char *both = cm_asprintf("%s; %s", out->note, s);
        free(s);
        if (!both) return CM_ERR_NOMEM;
        s = both;
    }
    free(out->note);
    out->note = s;
    return CM_OK;
}

int cm_task_score_pick(const cJSON *root, const cm_score_spec *spec, const char *path, cm_task_score *out) {
    memset(out, 0, sizeof *out);
    out->value = NAN;
    out->layout = cm_results_detect_layout(root);
    const char *declared = cJSON_IsObject(root) ? cm_results_declared_task(root) : NULL;
    if (!(out->path = cm_strdup(path ? path : "")) || (declared && !(out->task = cm_strdup(declared))))
        return CM_ERR_NOMEM;
    if (out->layout == CM_LAYOUT_UNKNOWN)
        return cm_error(CM_ERR_FORMAT, "%s: not an MTEB results file (expected \"scores\": {split: [...]} "
                        "or split keys such as \"test\" holding metrics)", out->path);
    const cm_results_layout l = out->layout;
    const cJSON *splits = l == CM_LAYOUT_CURRENT ? cJSON_GetObjectItemCaseSensitive(root, "scores") : root;
    const char *want_split = spec->split ? spec->split : "test";
    const char *want_subset = spec->subset && strcmp(spec->subset, "default") ? spec->subset : NULL;
    const char *metric = spec->metric ? spec->metric : "main_score";
    cm_str tmp = {0};
    int rc = CM_OK;

    /* Split. */
    const cJSON *S = cJSON_GetObjectItemCaseSensitive(splits, want_split);
    if (S && !is_split(S, l)) S = NULL;
    if (!S) {
        size_t n = 0;
        const cJSON *it, *only = NULL;
        cJSON_ArrayForEach(it, splits) if (is_split(it, l)) { n++; only = it; }
        list_keys(&tmp, splits, l, 1);
        if (n == 1) {
            S = only;
            rc = set_note(out, "split '%s' absent; used '%s', the only split in the file", want_split, only->string);
        } else {
            rc = cm_str_error(&tmp) ? CM_ERR_NOMEM
                                    : set_note(out, "no split '%s' (the file has: %s)", want_split,
                                               tmp.s ? tmp.s : "none");
            goto done;
        }
        if (rc) goto done;
    }
    if (!(out->split = cm_strdup(S->string))) { rc = CM_ERR_NOMEM; goto done; }

    /* Subset, then the metric. */
    const cJSON *E = NULL;
    const char *subset_used = want_subset ? want_subset : "default";
    if (l == CM_LAYOUT_CURRENT) {
        const char *want = want_subset ? want_subset : "default";
        const cJSON *it;
        size_t n = 0;
        cJSON_ArrayForEach(it, S) {
            if (!cJSON_IsObject(it)) continue;
            n++;
            const cJSON *hs = cJSON_GetObjectItemCaseSensitive(it, "hf_subset");
            const char *h = cJSON_IsString(hs) ? hs->valuestring : "default";
            if (!strcmp(h, want)) { E = it; break; }
        }
        if (!E) {
            cm_str have = {0};
            const cJSON *last = NULL;
            cJSON_ArrayForEach(it, S) {
                if (!cJSON_IsObject(it)) continue;
                const cJSON *hs = cJSON_GetObjectItemCaseSensitive(it, "hf_subset");
                cm_str_printf(&have, "%s%s", have.len ? ", " : "", cJSON_IsString(hs) ? hs->valuestring : "default");
                last = it;
            }
            if (n == 1) {
                const cJSON *hs = cJSON_GetObjectItemCaseSensitive(last, "hf_subset");
                subset_used = cJSON_IsString(hs) ? hs->valuestring : "default";
                E = last;
                rc = set_note(out, "hf_subset '%s' absent; used '%s', the only subset in split '%s'", want,
                              subset_used, S->string);
            } else if (cm_str_error(&have)) {
                rc = CM_ERR_NOMEM;
            } else {
                rc = set_note(out, "no hf_subset '%s' in split '%s' (the file has: %s)", want, S->string,
                              have.s ? have.s : "none");
            }
            cm_str_free(&have);
            if (rc || !E) goto done;
        }
    } else {
        if (want_subset) {
            const cJSON *sub = cJSON_GetObjectItemCaseSensitive(S, want_subset);
            if (cJSON_IsObject(sub)) {
                E = sub;
            } else {
                cm_str probe = {0};
                const cJSON *v = find_metric(S, metric, &probe);
                cm_str_free(&probe);
                if (v) {
                    E = S;
                    subset_used = "default";
                    rc = set_note(out, "no '%s' subset in split '%s'; used the split's top level", want_subset,
                                  S->string);
                    if (rc) goto done;
                } else {
                    cm_str_free(&tmp);
                    list_keys(&tmp, S, l, 0);
                    rc = cm_str_error(&tmp) ? CM_ERR_NOMEM
                                            : set_note(out, "no '%s' subset in split '%s' (it has: %s)", want_subset,
                                                       S->string, tmp.s ? tmp.s : "none");
                    goto done;
                }
            }
        } else {
            E = S;
            const cJSON *def = cJSON_GetObjectItemCaseSensitive(S, "default");
            cm_str probe = {0};
            if (!find_metric(S, metric, &probe) && cJSON_IsObject(def)) E = def;
            cm_str_free(&probe);
        }
    }
    if (!(out->subset = cm_strdup(subset_used))) { rc = CM_ERR_NOMEM; goto done; }

    cm_str key = {0};
    const cJSON *v = find_metric(E, metric, &key);
    if (!v && strcmp(metric, "main_score") != 0) {
        v = find_metric(E, "main_score", &key);
        if (v && (rc = set_note(out, "metric '%s' absent; used main_score", metric))) { cm_str_free(&key); goto done; }
    }
    if (!v) {
        cm_str_free(&key);
        rc = set_note(out, "no metric '%s' in split '%s'%s%s", metric, S->string,
                      l == CM_LAYOUT_CURRENT || want_subset ? ", subset " : "",
                      l == CM_LAYOUT_CURRENT || want_subset ? subset_used : "");
        goto done;
    }
    if (cm_str_error(&key)) { cm_str_free(&key); rc = CM_ERR_NOMEM; goto done; }   /* not a truncated key */
    out->key = key.s ? key.s : cm_strdup(metric);
    if (!out->key) { rc = CM_ERR_NOMEM; goto done; }
    double x = v->valuedouble;
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(E, "main_score");
    /* Scores are fractions (|x| <= 1); model-card conversions store x100. */
    if (fabs(x) > 1.0 + 1e-9 || (cJSON_IsNumber(ms) && fabs(ms->valuedouble) > 1.0 + 1e-9)) {
        out->percent = 1;
        x /= 100.0;
    }
    out->value = x;
done:
    cm_str_free(&tmp);
    return rc;
}

/* ---- model folders -------------------------------------------------------- */

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static int is_task_file_name(const char *name) {
    return name[0] != '.' && ends_with(name, ".json") && strcmp(name, "model_meta.json") != 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted entries of dir: regular files (want_dirs 0), folders (1) or every
 * entry named like a task file, whatever it is (2); hidden ones skipped. */
static int list_dir(const char *dir, int want_dirs, char ***out, size_t *n) {
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return cm_error(CM_ERR_IO, "%s: cannot open folder", dir);
    size_t cap = 0;
    struct dirent *e;
    int rc = CM_OK;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *p = cm_path_join(dir, e->d_name);
        if (!p) { rc = CM_ERR_NOMEM; break; }
        struct stat st;
        int ok = want_dirs == 2 ? is_task_file_name(e->d_name)
               : stat(p, &st) == 0 && (want_dirs ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
        if (!ok) { free(p); continue; }
        if ((rc = cm_array_push(*out, *n, cap, p))) { free(p); break; }
    }
    closedir(d);
    if (rc) { cm_results_free_folders(*out, *n); *out = NULL; *n = 0; return rc; }
    if (*n) qsort(*out, *n, sizeof **out, cmp_str);
    return CM_OK;
}

void cm_results_free_folders(char **folders, size_t n) {
    if (!folders) return;
    for (size_t i = 0; i < n; i++) free(folders[i]);
    free(folders);
}

/* 1 when dir holds at least one results file (a *.json that parses and has
 * a results layout); other JSON files (summaries, fixtures) do not count. A
 * file that does not parse counts, so that loading reports it. */
static int holds_task_files(const char *dir) {
    char **files;
    size_t n;
    if (list_dir(dir, 0, &files, &n)) { cm_error_clear(); return 0; }
    int yes = 0;
    for (size_t i = 0; i < n && !yes; i++) {
        if (!is_task_file_name(cm_path_basename(files[i]))) continue;
        char *text = NULL;
        if (cm_read_file_max(files[i], &text, NULL, CM_READ_MAX_JSON)) { cm_error_clear(); continue; }
        cJSON *root = cJSON_Parse(text);
        yes = !root || cm_results_detect_layout(root) != CM_LAYOUT_UNKNOWN;
        cJSON_Delete(root);
        free(text);
    }
    cm_results_free_folders(files, n);
    return yes;
}

typedef struct { char **v; size_t n, cap; } strvec;

static int strvec_push(strvec *s, const char *x) {
    char *c = cm_strdup(x);
    if (!c) return CM_ERR_NOMEM;
    int rc = cm_array_push(s->v, s->n, s->cap, c);
    if (rc) free(c);
    return rc;
}

static int find_rec(const char *dir, int depth, strvec *acc) {
    if (holds_task_files(dir)) return strvec_push(acc, dir);
    if (depth >= 3) return CM_OK;
    char **subs;
    size_t n;
    CM_TRY(list_dir(dir, 1, &subs, &n));
    int rc = CM_OK;
    for (size_t i = 0; i < n && !rc; i++) rc = find_rec(subs[i], depth + 1, acc);
    cm_results_free_folders(subs, n);
    return rc;
}

int cm_results_find_models(const char *dir, char ***folders, size_t *n) {
    *folders = NULL;
    *n = 0;
    if (!cm_dir_exists(dir)) return cm_error(CM_ERR_NOTFOUND, "%s: no such results folder", dir);
    strvec acc = {0};
    size_t failures = cm_alloc_failures();   /* find_rec skips unreadable files */
    int rc = cm_alloc_guard(find_rec(dir, 0, &acc), failures, "looking for results files");
    if (rc) { cm_results_free_folders(acc.v, acc.n); return rc; }
    if (!acc.n) {
        free(acc.v);
        return cm_error(CM_ERR_NOTFOUND, "%s: no results files found (expected <Task>.json files in this folder, "
                        "in <model>/ or in <org>__<model>/<revision>/ sub-folders)", dir);
    }
    *folders = acc.v;
    *n = acc.n;
    return CM_OK;
}

/* ---- loading one model folder -------------------------------------------- */

static int looks_like_revision(const char *s) {
    if (!strcmp(s, "no_revision_available") || !strcmp(s, "external") || !strcmp(s, "main")) return 1;
    size_t n = strlen(s);
    if (n < 7 || n > 64) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i])) return 0;
    return 1;
}

/* "org__model" -> "org/model" (first "__" only, as MTEB writes it). */
static char *unmangle(const char *s) {
    const char *p = strstr(s, "__");
    if (!p) return cm_strdup(s);
    return cm_asprintf("%.*s/%s", (int)(p - s), s, p + 2);
}

static int read_model_name(cm_model_results *m, const char *folder) {
    char *meta_path = cm_path_join(folder, "model_meta.json");
    if (!meta_path) return CM_ERR_NOMEM;
    if (cm_file_exists(meta_path)) {
        char *text = NULL;
        if (cm_read_file(meta_path, &text, NULL) == CM_OK) {
            cJSON *meta = cJSON_Parse(text);
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(meta, "name");
            const cJSON *rv = cJSON_GetObjectItemCaseSensitive(meta, "revision");
            if (cJSON_IsString(nm) && nm->valuestring[0]) m->name = cm_strdup(nm->valuestring);
            if (cJSON_IsString(rv) && rv->valuestring[0]) m->revision = cm_strdup(rv->valuestring);
            cJSON_Delete(meta);
        }
        free(text);
        cm_error_clear();
    }
    free(meta_path);
    /* Without model_meta.json: <org>__<model>/<revision> or <model>. */
    char *abs = realpath(folder, NULL);
    const char *path = abs ? abs : folder;
    const char *base = cm_path_basename(path);
    char *parent_dir = cm_path_dirname(path);
    const char *parent = parent_dir ? cm_path_basename(parent_dir) : "";
    int rev_folder = looks_like_revision(base) && parent[0] && strcmp(parent, "/") && strcmp(parent, ".");
    if (!m->name) m->name = rev_folder ? unmangle(parent) : unmangle(base);
    if (!m->revision && rev_folder) m->revision = cm_strdup(base);
    free(parent_dir);
    free(abs);
    if (!m->name || !(m->label = cm_strdup(m->name))) return CM_ERR_NOMEM;
    return CM_OK;
}

static int add_warning(cm_model_results *m, char *w) {
    if (!w) return CM_ERR_NOMEM;
    if (cm_array_push(m->warnings, m->n_warnings, m->cap_warnings, w)) { free(w); return CM_ERR_NOMEM; }
    return CM_OK;
}

static int push_score(cm_model_results *m, cm_task_score *s) {
    CM_TRY(cm_array_push(m->scores, m->n_scores, m->cap_scores, *s));
    memset(s, 0, sizeof *s);
    return CM_OK;
}

static const char *const cqa_subforums[12] = {
    "Android", "English", "Gaming", "Gis", "Mathematica", "Physics",
    "Programmers", "Stats", "Tex", "Unix", "Webmasters", "Wordpress",
};

int cm_results_is_cqadupstack_part(const char *name) {
    for (int i = 0; i < 12; i++) {
        char want[64];
        snprintf(want, sizeof want, "CQADupstack%sRetrieval", cqa_subforums[i]);
        if (!strcasecmp(name, want)) return 1;
    }
    return 0;
}

/* The spec a file is read with: its catalog task; CQADupstack subforums use
 * CQADupstackRetrieval's; unknown tasks "main_score" of split "test". */
static cm_score_spec spec_for_name(const cm_catalog *cat, const char *name, const char **canonical) {
    const cm_task *t = cat ? cm_catalog_find(cat, name) : NULL;
    *canonical = t ? t->name : name;
    if (!t && cm_results_is_cqadupstack_part(name)) {
        const cm_task *cqa = cat ? cm_catalog_find(cat, "CQADupstackRetrieval") : NULL;
        if (cqa) return cm_score_spec_for(cqa);
        cm_score_spec s = {"test", NULL, "ndcg_at_10"};
        return s;
    }
    return cm_score_spec_for(t);
}

/* CQADupstackRetrieval as the mean of its 12 subforum files, when the folder
 * has subforum files but no CQADupstackRetrieval file. */
static int add_cqadupstack(cm_model_results *m, const cm_catalog *cat) {
    if (cm_model_results_get(m, "CQADupstackRetrieval")) return CM_OK;
    double sum = 0;
    int found = 0, valid = 0;
    const char *key = NULL, *split = NULL;
    cm_str missing = {0};
    for (int i = 0; i < 12; i++) {
        char want[64];
        snprintf(want, sizeof want, "CQADupstack%sRetrieval", cqa_subforums[i]);
        const cm_task_score *s = cm_model_results_get(m, want);
        if (s) found++;
        if (s && !isnan(s->value)) {
            valid++;
            sum += s->value;
            key = s->key;
            split = s->split;
        } else {
            cm_str_printf(&missing, "%s%s", missing.len ? ", " : "", want);
        }
    }
    if (!found) { cm_str_free(&missing); return CM_OK; }
    if (cm_str_error(&missing)) { cm_str_free(&missing); return CM_ERR_NOMEM; }
    const cm_task *t = cat ? cm_catalog_find(cat, "CQADupstackRetrieval") : NULL;
    cm_task_score s = {0};
    s.value = NAN;
    s.task = cm_strdup(t ? t->name : "CQADupstackRetrieval");
    s.path = cm_strdup(m->dir);
    s.layout = CM_LAYOUT_UNKNOWN;
    if (valid == 12) {
        s.value = sum / 12.0;
        s.key = cm_strdup(key);
        s.split = cm_strdup(split);
        s.subset = cm_strdup("default");
        s.note = cm_strdup("mean of the 12 CQADupstack*Retrieval subforum files");
    } else {
        s.note = cm_asprintf("only %d of the 12 CQADupstack subforum files have a score (missing: %s)", valid,
                             missing.s);
    }
    cm_str_free(&missing);
    if (!s.task || !s.path || !s.note) { cm_task_score_clear(&s); return CM_ERR_NOMEM; }
    int rc = push_score(m, &s);
    cm_task_score_clear(&s);
    return rc;
}

static size_t line_of(const char *text, const char *pos) {
    size_t line = 1;
    for (const char *p = text; pos && p < pos && *p; p++) line += *p == '\n';
    return line;
}

static int load_file(cm_model_results *m, const char *path, const cm_catalog *cat) {
    /* A task file that is not a readable file (a folder, a dangling link or a
     * link loop) is an error: skipping it would make its task look absent. */
    struct stat st;
    if (stat(path, &st) != 0)
        return cm_error(CM_ERR_IO, "%s: cannot read results file: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return cm_error(CM_ERR_IO, "%s: cannot read results file: %s", path,
                        S_ISDIR(st.st_mode) ? "is a folder" : "not a regular file");
    char *text = NULL;
    CM_TRY(cm_read_file_max(path, &text, NULL, CM_READ_MAX_JSON));
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        int rc = cm_error(CM_ERR_FORMAT, "%s:%zu: invalid JSON (expected an MTEB results object)", path,
                          line_of(text, end));
        free(text);
        return rc;
    }
    free(text);
    int rc = CM_OK;
    const char *dup = cm_json_duplicate_key(root);
    if (dup && (rc = add_warning(m, cm_asprintf("%s: duplicate key '%s' in one JSON object; the first one is used",
                                                path, dup)))) {
        cJSON_Delete(root);
        return rc;
    }
    char *stem = cm_strndup(cm_path_basename(path), strlen(cm_path_basename(path)) - 5);
    if (!stem) { cJSON_Delete(root); return CM_ERR_NOMEM; }
    if (cm_results_detect_layout(root) == CM_LAYOUT_UNKNOWN) {
        /* Not results: an error when it cannot be anything else (not an object,
         * or named after a known task), else a note that it was skipped. */
        if (!cJSON_IsObject(root) || (cat && cm_catalog_find(cat, stem)) || cm_results_is_cqadupstack_part(stem))
            rc = cm_error(CM_ERR_FORMAT, "%s: not an MTEB results object (expected \"scores\": {split: [...]} or "
                          "split keys such as \"test\" holding metrics)", path);
        else
            rc = add_warning(m, cm_asprintf("%s: skipped: not an MTEB results file (no \"scores\" and no split "
                                            "keys)", path));
        free(stem);
        cJSON_Delete(root);
        return rc;
    }
    const char *declared = cm_results_declared_task(root);
    const char *name = declared ? declared : stem;
    /* Prefer the declared name, but a file name the catalog knows wins over an unknown declared name. */
    if (cat && declared && !cm_catalog_find(cat, declared) && cm_catalog_find(cat, stem)) name = stem;
    const char *canonical;
    cm_score_spec spec = spec_for_name(cat, name, &canonical);
    if (cm_model_results_get(m, canonical)) {
        rc = add_warning(m, cm_asprintf("%s: skipped: task %s already read from another file", path, canonical));
        free(stem);
        cJSON_Delete(root);
        return rc;
    }
    cm_task_score s;
    rc = cm_task_score_pick(root, &spec, path, &s);
    if (rc == CM_OK) {
        free(s.task);
        s.task = cm_strdup(canonical);
        rc = s.task ? push_score(m, &s) : CM_ERR_NOMEM;
    }
    cm_task_score_clear(&s);
    free(stem);
    cJSON_Delete(root);
    return rc;
}

int cm_model_results_load(cm_model_results **out, const char *folder, const cm_catalog *cat) {
    *out = NULL;
    size_t failures = cm_alloc_failures();   /* a file skipped for want of memory must not pass unnoticed */
    cm_model_results *m = cm_calloc(1, sizeof *m);
    if (!m) return CM_ERR_NOMEM;
    int rc = CM_OK;
    if (!(m->dir = cm_strdup(folder))) { rc = CM_ERR_NOMEM; goto fail; }
    if ((rc = read_model_name(m, folder))) goto fail;
    char **files;
    size_t n;
    if ((rc = list_dir(folder, 2, &files, &n))) goto fail;
    for (size_t i = 0; i < n && !rc; i++) rc = load_file(m, files[i], cat);
    cm_results_free_folders(files, n);
    if (rc) goto fail;
    if ((rc = add_cqadupstack(m, cat))) goto fail;
    if ((rc = cm_alloc_guard(rc, failures, "reading the results folder"))) goto fail;
    *out = m;
    return CM_OK;
fail:
    cm_model_results_free(m);
    return rc;
}

const cm_task_score *cm_model_results_get(const cm_model_results *m, const char *task) {
    for (size_t i = 0; i < m->n_scores; i++)
        if (m->scores[i].task && !strcmp(m->scores[i].task, task)) return &m->scores[i];
    for (size_t i = 0; i < m->n_scores; i++)
        if (m->scores[i].task && !strcasecmp(m->scores[i].task, task)) return &m->scores[i];
    return NULL;
}

void cm_model_results_free(cm_model_results *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n_scores; i++) cm_task_score_clear(&m->scores[i]);
    free(m->scores);
    for (size_t i = 0; i < m->n_warnings; i++) free(m->warnings[i]);
    free(m->warnings);
    free(m->name); free(m->revision); free(m->label); free(m->dir);
    free(m);
}
