/* shard_merge.c: `cmteb merge`, the shard folders into the files of one run (see shard.h). */
#include "eval/shard.h"
#include "cmteb/evaluator.h"
#include "cmteb/log.h"
#include "cmteb/results.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include "cmteb/embedder.h"
#include "cmteb/store.h"

#include <glob.h>
#include <unistd.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

cm_merge_params cm_merge_default_params(void) {
    cm_merge_params p;
    memset(&p, 0, sizeof p);
    p.output_dir = "results";
    return p;
}

typedef struct {
    char  *model_dir;   /* the shard's model folder */
    cJSON *manifest;
    size_t index, of;
} shard_in;

/* Reads path as JSON (*out: caller deletes); errors name the file. */
static int read_json(const char *path, cJSON **out) {
    char *text = NULL;
    *out = NULL;
    CM_TRY(cm_read_file(path, &text, NULL));
    *out = cJSON_Parse(text);
    free(text);
    if (!*out) return cm_error(CM_ERR_FORMAT, "%s: not valid JSON (a file of cmteb run --shard)", path);
    return CM_OK;
}

static int json_size(const cJSON *o, const char *key, const char *path, size_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e15 || v->valuedouble != floor(v->valuedouble))
        return cm_error(CM_ERR_FORMAT, "%s: field '%s': expected a non-negative integer", path, key);
    *out = (size_t)v->valuedouble;
    return CM_OK;
}

/* The shard model folder of dir: dir itself when it holds .cmteb/shard.json, else the one
 * dir/<org>__<model>/<revision>/ that does. */
static int find_model_dir(const char *dir, char **out) {
    *out = NULL;
    char *m = cm_path_join(dir, ".cmteb/shard.json");
    if (!m) return CM_ERR_NOMEM;
    if (cm_file_exists(m)) {
        free(m);
        return (*out = cm_strdup(dir)) ? CM_OK : CM_ERR_NOMEM;
    }
    free(m);
    char *pat = cm_path_join(dir, "*/*/.cmteb/shard.json");
    if (!pat) return CM_ERR_NOMEM;
    glob_t g;
    memset(&g, 0, sizeof g);
    int grc = glob(pat, 0, NULL, &g);
    free(pat);
    int rc = CM_OK;
    if (grc || g.gl_pathc == 0)
        rc = cm_error(CM_ERR_NOTFOUND, "%s: no shard results (expected %s/<org>__<model>/<revision>/.cmteb/shard.json, "
                      "written by cmteb run --shard I/N)", dir, dir);
    else if (g.gl_pathc > 1)
        rc = cm_error(CM_ERR_ARG, "%s: shard results of %zu models (e.g. %s and %s); name one model folder per shard",
                      dir, (size_t)g.gl_pathc, g.gl_pathv[0], g.gl_pathv[1]);
    else {
        char *p = g.gl_pathv[0];
        p[strlen(p) - strlen("/.cmteb/shard.json")] = '\0';
        if (!(*out = cm_strdup(p))) rc = CM_ERR_NOMEM;
    }
    globfree(&g);
    return rc;
}

/* Reads every shard's manifest and checks they are shards 0..n-1 of one run; sorts sh by index. */
static int load_shards(const char *const *dirs, size_t n, shard_in *sh) {
    for (size_t i = 0; i < n; i++) {
        CM_TRY(find_model_dir(dirs[i], &sh[i].model_dir));
        char *path = cm_path_join(sh[i].model_dir, ".cmteb/shard.json");
        int rc = path ? read_json(path, &sh[i].manifest) : CM_ERR_NOMEM;
        if (!rc) rc = json_size(sh[i].manifest, "shard", path, &sh[i].index);
        if (!rc) rc = json_size(sh[i].manifest, "of", path, &sh[i].of);
        if (!rc && sh[i].of != n)
            rc = cm_error(CM_ERR_ARG, "%s: shard %zu of %zu, but %zu shard folders were given (pass all of them)", path,
                          sh[i].index, sh[i].of, n);
        if (!rc && !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(sh[i].manifest, "tasks")))
            rc = cm_error(CM_ERR_FORMAT, "%s: field 'tasks': expected an array", path);
        free(path);
        if (rc) return rc;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (sh[j].index < sh[i].index) {
                shard_in t = sh[i];
                sh[i] = sh[j];
                sh[j] = t;
            }
    char *t0 = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(sh[0].manifest, "tasks"));
    char *o0 = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(sh[0].manifest, "options"));
    const cJSON *f0 = cJSON_GetObjectItemCaseSensitive(sh[0].manifest, "model_fingerprint");
    int rc = t0 && o0 ? CM_OK : CM_ERR_NOMEM;
    for (size_t i = 0; i < n && !rc; i++) {
        if (sh[i].index != i) {
            rc = cm_error(CM_ERR_ARG, "shard %zu of %zu is missing (%s is shard %zu): pass every shard's folder", i, n,
                          sh[i].model_dir, sh[i].index);
            break;
        }
        char *ti = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(sh[i].manifest, "tasks"));
        char *oi = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(sh[i].manifest, "options"));
        const cJSON *fi = cJSON_GetObjectItemCaseSensitive(sh[i].manifest, "model_fingerprint");
        if (!ti || !oi) rc = CM_ERR_NOMEM;
        else if (!cJSON_Compare(f0, fi, 1))
            rc = cm_error(CM_ERR_ARG, "%s and %s hold shards of different models (fingerprints differ)",
                          sh[0].model_dir, sh[i].model_dir);
        else if (strcmp(t0, ti) || strcmp(o0, oi) ||
                 !cJSON_Compare(cJSON_GetObjectItemCaseSensitive(sh[0].manifest, "keep_items"),
                                cJSON_GetObjectItemCaseSensitive(sh[i].manifest, "keep_items"), 1))
            rc = cm_error(CM_ERR_ARG, "%s and %s ran different %s: every shard must run the same command",
                          sh[0].model_dir, sh[i].model_dir,
                          strcmp(t0, ti) ? "tasks" : strcmp(o0, oi) ? "evaluator options" : "--no-items");
        free(ti);
        free(oi);
    }
    free(t0);
    free(o0);
    return rc;
}

/* Copies src to dst byte for byte (atomically); a missing src is CM_ERR_NOTFOUND. */
static int copy_file(const char *src, const char *dst) {
    char *data = NULL, *dir = NULL;
    size_t len = 0;
    if (!cm_file_exists(src)) return CM_ERR_NOTFOUND;
    int rc = cm_read_file(src, &data, &len);
    if (!rc) rc = (dir = cm_path_dirname(dst)) ? cm_mkdir_p(dir) : CM_ERR_NOMEM;
    if (!rc) rc = cm_write_file_atomic(dst, data, len);
    free(data);
    free(dir);
    return rc;
}

/* The main score of a result file (NaN when absent). */
static double result_main_score(const char *path, const cm_task *t) {
    cJSON *o = NULL;
    if (read_json(path, &o)) return NAN;
    const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "scores"),
                                                                         t->split), 0);
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(e, "main_score");
    double v = cJSON_IsNumber(ms) ? ms->valuedouble : NAN;
    cJSON_Delete(o);
    return v;
}

/* Shards written before non-retrieval tasks were sliced (cmteb 0.x up to this change): shard 0 evaluated the
 * task whole, so it has a result file and no shard record of it. */
static int old_layout(const cm_task *t, const shard_in *s0) {
    char *rec = cm_shard_task_path(s0->model_dir, t->name), *res = cm_results_task_path(s0->model_dir, t->name);
    int old = rec && res && !cm_file_exists(rec) && cm_file_exists(res);
    free(rec);
    free(res);
    return old;
}

/* Another task type in the old layout: shard 0's result file and items side file, as they are. */
static int merge_copied(const cm_task *t, const shard_in *s0, const char *out_dir, cm_run_task_result *r) {
    char *src = cm_results_task_path(s0->model_dir, t->name), *dst = cm_results_task_path(out_dir, t->name);
    char *clean = cm_path_component_clean(t->name);
    char *isrc = clean ? cm_asprintf("%s/.cmteb/%s.items.json", s0->model_dir, clean) : NULL;
    char *idst = clean ? cm_asprintf("%s/.cmteb/%s.items.json", out_dir, clean) : NULL;
    int rc = src && dst && isrc && idst ? CM_OK : CM_ERR_NOMEM;
    if (!rc) {
        rc = copy_file(src, dst);
        if (rc == CM_ERR_NOTFOUND)
            rc = cm_error(CM_ERR_NOTFOUND, "%s: no result in shard 0 (%s): shard 0 evaluates the non-retrieval tasks; "
                          "it failed there or did not finish", t->name, src);
    }
    if (!rc) {
        int irc = copy_file(isrc, idst);
        rc = irc == CM_ERR_NOTFOUND ? CM_OK : irc;   /* --no-items runs have none */
    }
    if (!rc) r->main_score = result_main_score(dst, t);
    free(src); free(dst); free(clean); free(isrc); free(idst);
    return rc;
}

/* The shard record of task t in each shard (MODEL_DIR/.cmteb/shard/<Task>.json): the slowest shard's seconds
 * into *slowest and shard 0's record, which names the data folder, into *rec0 (caller deletes); a shard
 * without one is an error. */
static int read_records(const cm_task *t, const shard_in *sh, size_t n, double *slowest, cJSON **rec0) {
    *rec0 = NULL;
    int rc = CM_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        char *path = cm_shard_task_path(sh[i].model_dir, t->name);
        cJSON *rec = NULL;
        if (!path) rc = CM_ERR_NOMEM;
        else if (!cm_file_exists(path))
            rc = cm_error(CM_ERR_NOTFOUND, "%s: shard %zu of %zu has not finished it (no %s): rerun that shard",
                          t->name, i, n, path);
        else rc = read_json(path, &rec);
        const cJSON *secs = cJSON_GetObjectItemCaseSensitive(rec, "evaluation_time");
        if (!rc && cJSON_IsNumber(secs) && secs->valuedouble > *slowest) *slowest = secs->valuedouble;
        if (!rc && i == 0) *rec0 = rec;
        else cJSON_Delete(rec);
        free(path);
    }
    const cJSON *folder = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(*rec0, "cmteb"),
                                                           "data_folder");
    if (!rc && !cJSON_IsString(folder))
        rc = cm_error(CM_ERR_FORMAT, "%s: shard 0's record has no cmteb.data_folder", t->name);
    if (rc) {
        cJSON_Delete(*rec0);
        *rec0 = NULL;
    }
    return rc;
}

/* A retrieval task: the shards' hits merged and scored by the retrieval evaluator. */
static int merge_retrieval(const cm_task *t, const shard_in *sh, size_t n, const cJSON *opts, int keep_items,
                           const char *out_dir, const cm_merge_params *p, cm_run_task_result *r) {
    char **prefixes = cm_calloc(n, sizeof *prefixes);
    cJSON *rec0 = NULL, *scores = cJSON_CreateObject(), *items = NULL;
    char *pred = NULL;
    double slowest = 0, t0 = cm_now();
    int rc = prefixes && scores ? CM_OK : CM_ERR_NOMEM;
    for (size_t i = 0; i < n && !rc; i++)
        if (!(prefixes[i] = cm_shard_task_prefix(sh[i].model_dir, t->name))) rc = CM_ERR_NOMEM;
    if (!rc) rc = read_records(t, sh, n, &slowest, &rec0);
    const cJSON *prov = cJSON_GetObjectItemCaseSensitive(rec0, "cmteb");
    const cJSON *folder = cJSON_GetObjectItemCaseSensitive(prov, "data_folder");
    cm_eval_options o = cm_eval_default_options();
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(opts, "retrieval_index")) && cJSON_IsString(v))
        o.retrieval_index = v->valuestring;
    if ((v = cJSON_GetObjectItemCaseSensitive(opts, "retrieval_index_params")) && cJSON_IsString(v))
        o.retrieval_index_params = v->valuestring;
    if ((v = cJSON_GetObjectItemCaseSensitive(opts, "save_predictions")) && cJSON_IsNumber(v) && v->valuedouble >= 1) {
        o.predictions_top_k = (size_t)v->valuedouble;
        char *clean = cm_path_component_clean(t->name);
        pred = clean ? cm_asprintf("%s/predictions/%s", out_dir, clean) : NULL;
        free(clean);
        if (!pred && !rc) rc = CM_ERR_NOMEM;
        o.predictions_prefix = pred;
    }
    o.merge_prefixes = (const char *const *)prefixes;
    o.n_merge = n;
    if (!rc && keep_items && !(items = cJSON_CreateObject())) rc = CM_ERR_NOMEM;
    size_t failures = cm_alloc_failures();
    if (!rc) {
        cm_eval_ctx ctx = {NULL, folder->valuestring, p->threads, p->quiet, &o, items};
        rc = cm_evaluator_for(t->type)->evaluate(t, &ctx, scores);
    }
    if (!rc && cm_alloc_failures() != failures)
        rc = cm_error(CM_ERR_NOMEM, "%s: out of memory while merging (its result would be incomplete)", t->name);
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(scores, "main_score");
    if (!rc && (!cJSON_IsNumber(ms) || !isfinite(ms->valuedouble)))
        rc = cm_error(CM_ERR_NUMERIC, "%s: the merged main score is not a finite number", t->name);
    r->seconds = slowest + (cm_now() - t0);
    if (!rc) {
        r->main_score = ms->valuedouble;
        rc = cm_results_write_task(out_dir, t, scores, r->seconds, prov, items);
    }
    for (size_t i = 0; prefixes && i < n; i++) free(prefixes[i]);
    free(prefixes);
    free(pred);
    cJSON_Delete(rec0);
    cJSON_Delete(scores);
    cJSON_Delete(items);
    return rc;
}

/* Gathers the shards' slices of task t's vectors (MODEL_DIR/.cmteb/shard/<Task>.vectors) into one new store
 * at dir. */
static int gather_slices(const cm_task *t, const shard_in *sh, size_t n, const char *dir) {
    cm_store_remove(dir);   /* left by an interrupted merge */
    cm_store *dst = NULL;
    int rc = CM_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        char *prefix = cm_shard_task_prefix(sh[i].model_dir, t->name);
        char *src_dir = prefix ? cm_asprintf("%s.vectors", prefix) : NULL;
        cm_store *src = NULL;
        cm_store_params sp = cm_store_default_params();
        if (!src_dir) rc = CM_ERR_NOMEM;
        else if (!cm_store_exists(src_dir))
            rc = cm_error(CM_ERR_NOTFOUND, "%s: shard %zu of %zu has no vectors for it (no store in %s): rerun that "
                          "shard", t->name, i, n, src_dir);
        else rc = cm_store_open(&src, src_dir, &sp);
        if (!rc && !dst) {
            cm_store_params dp = cm_store_default_params();
            dp.dim = cm_store_dim(src);
            dp.writable = 1;
            char *parent = cm_path_dirname(dir);
            rc = parent ? cm_mkdir_p(parent) : CM_ERR_NOMEM;
            free(parent);
            if (!rc) rc = cm_store_open(&dst, dir, &dp);
        }
        if (!rc) rc = cm_store_copy_from(dst, src);
        cm_store_close(src);
        free(prefix);
        free(src_dir);
    }
    if (!rc && dst) rc = cm_store_reindex(dst);
    cm_store_close(dst);
    return rc;
}

/* Another task type: the texts' vectors, embedded in slices by the shards, gathered into one store and
 * evaluated through the precomputed backend, as one run evaluates them; the result written with shard 0's
 * provenance. */
static int merge_sliced(const cm_task *t, const shard_in *sh, size_t n, const cJSON *opts, int keep_items,
                        const char *out_dir, const cm_merge_params *p, cm_run_task_result *r) {
    double slowest = 0, t0 = cm_now();
    cJSON *rec0 = NULL, *scores = cJSON_CreateObject(), *items = NULL;
    char *clean = cm_path_component_clean(t->name);
    char *vdir = clean ? cm_asprintf("%s/.cmteb/shard-merge/%s.vectors", out_dir, clean) : NULL;
    char *spec = vdir ? cm_asprintf("precomputed:%s", vdir) : NULL;
    cm_encoder *enc = NULL;
    cm_embedder *emb = NULL;
    int rc = scores && spec ? CM_OK : CM_ERR_NOMEM;
    if (!rc) rc = read_records(t, sh, n, &slowest, &rec0);
    const cJSON *prov = cJSON_GetObjectItemCaseSensitive(rec0, "cmteb");
    const cJSON *folder = cJSON_GetObjectItemCaseSensitive(prov, "data_folder");
    if (!rc) rc = gather_slices(t, sh, n, vdir);
    if (!rc) {
        cm_encoder_params ep = cm_encoder_default_params();
        ep.quiet = 1;
        rc = cm_encoder_init(&enc, spec, &ep);
    }
    if (!rc) {
        cm_embedder_params bp = cm_embedder_default_params();
        bp.quiet = 1;
        rc = cm_embedder_init(&emb, enc, &bp);
    }
    cm_eval_options o = cm_eval_default_options();
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(opts, "clustering_protocol");
    cm_clustering_protocol cp;
    if (!rc && v && (!cJSON_IsString(v) || cm_clustering_protocol_parse(v->valuestring, &cp) != CM_OK))
        rc = cm_error(CM_ERR_FORMAT, "%s: shard 0's manifest: options.clustering_protocol: expected a protocol name",
                      t->name);
    else if (v) o.clustering_protocol = (int)cp;
    if (!rc && keep_items && !(items = cJSON_CreateObject())) rc = CM_ERR_NOMEM;
    size_t failures = cm_alloc_failures();
    if (!rc) {
        cm_eval_ctx ctx = {emb, folder->valuestring, p->threads, p->quiet, &o, items};
        rc = cm_evaluator_for(t->type)->evaluate(t, &ctx, scores);
        if (rc == CM_ERR_NOTFOUND)
            rc = cm_error_wrap(rc, "%s: the shards' slices lack vectors the task needs (were all shards runs of one "
                               "command?)", t->name);
    }
    if (!rc && cm_alloc_failures() != failures)
        rc = cm_error(CM_ERR_NOMEM, "%s: out of memory while merging (its result would be incomplete)", t->name);
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(scores, "main_score");
    if (!rc && !cJSON_IsNumber(ms)) rc = cm_error(CM_ERR_INTERNAL, "%s: evaluator gave no main_score", t->name);
    r->seconds = slowest + (cm_now() - t0);
    if (!rc) {   /* as one run: the file is written, a non-finite main score (null in it) fails the task */
        r->main_score = ms->valuedouble;
        rc = cm_results_write_task(out_dir, t, scores, r->seconds, prov, items);
        if (!rc && !isfinite(r->main_score))
            rc = cm_error(CM_ERR_NUMERIC, "main score %s is not finite (written as null)", t->main_score);
    }
    cm_embedder_free(emb);
    cm_encoder_free(enc);
    if (vdir) {
        cm_store_remove(vdir);
        char *parent = cm_path_dirname(vdir);
        if (parent) rmdir(parent);   /* when empty */
        free(parent);
    }
    free(clean); free(vdir); free(spec);
    cJSON_Delete(rec0);
    cJSON_Delete(scores);
    cJSON_Delete(items);
    return rc;
}

/* Loads the catalog with the task files the shards' tasks came from. */
static int load_catalog(const cJSON *tasks, cm_catalog **cat) {
    CM_TRY(cm_catalog_init(cat));
    const cJSON *t;
    cJSON_ArrayForEach(t, tasks) {
        const cJSON *src = cJSON_GetObjectItemCaseSensitive(t, "source");
        if (!cJSON_IsString(src) || !strcmp(src->valuestring, "builtin") || !strcmp(src->valuestring, "demo"))
            continue;
        int seen = 0;   /* a file holding several tasks is added once */
        for (const cJSON *u = tasks->child; u != t && !seen; u = u->next)
            seen = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(u, "source")) &&
                   !strcmp(cJSON_GetObjectItemCaseSensitive(u, "source")->valuestring, src->valuestring);
        if (!seen) CM_TRY(cm_catalog_add_file(*cat, src->valuestring));
    }
    return CM_OK;
}

int cm_shard_merge(const char *const *dirs, size_t n, const cm_merge_params *p, cm_catalog **cat,
                   cm_run_summary *s) {
    memset(s, 0, sizeof *s);
    *cat = NULL;
    if (!n) return cm_error(CM_ERR_ARG, "merge: no shard folders given");
    shard_in *sh = cm_calloc(n, sizeof *sh);
    if (!sh) return CM_ERR_NOMEM;
    int rc = load_shards(dirs, n, sh);
    const cJSON *tasks = rc ? NULL : cJSON_GetObjectItemCaseSensitive(sh[0].manifest, "tasks");
    const cJSON *opts = rc ? NULL : cJSON_GetObjectItemCaseSensitive(sh[0].manifest, "options");
    int keep_items = rc ? 0 : !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(sh[0].manifest, "keep_items"));
    if (!rc) rc = load_catalog(tasks, cat);
    /* the output model folder: OUTPUT/<org>__<model>/<revision>, as the shards named theirs */
    if (!rc) {
        char *rev_parent = cm_path_dirname(sh[0].model_dir);
        char *org = rev_parent ? cm_strdup(cm_path_basename(rev_parent)) : NULL;
        char *mid = org ? cm_path_join(p->output_dir, org) : NULL;
        s->model_dir = mid ? cm_path_join(mid, cm_path_basename(sh[0].model_dir)) : NULL;
        free(rev_parent); free(org); free(mid);
        if (!s->model_dir) rc = CM_ERR_NOMEM;
    }
    size_t n_tasks = rc ? 0 : (size_t)cJSON_GetArraySize(tasks);
    if (!rc && !(s->results = cm_calloc(n_tasks ? n_tasks : 1, sizeof *s->results))) rc = CM_ERR_NOMEM;
    if (!rc) rc = cm_mkdir_p(s->model_dir);
    if (!rc) rc = cm_dir_lock(s->model_dir, ".cmteb/run.lock", &s->lock_fd);
    if (!rc) s->locked = 1;
    char *meta_src = rc ? NULL : cm_path_join(sh[0].model_dir, "model_meta.json");
    char *meta_dst = rc ? NULL : cm_path_join(s->model_dir, "model_meta.json");
    if (!rc) rc = meta_src && meta_dst ? copy_file(meta_src, meta_dst) : CM_ERR_NOMEM;
    if (rc == CM_ERR_NOTFOUND) rc = cm_error(rc, "%s: missing (shard 0 did not start)", meta_src);
    free(meta_src);
    free(meta_dst);
    const cJSON *tj = tasks ? tasks->child : NULL;
    for (size_t k = 0; k < n_tasks && !rc; k++, tj = tj->next) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tj, "name"));
        const cm_task *t = name ? cm_catalog_find(*cat, name) : NULL;
        if (!t) {
            rc = cm_error(CM_ERR_NOTFOUND, "merge: task '%s' of the shards is not in the catalog or their task files",
                          name ? name : "?");
            break;
        }
        cm_run_task_result *r = &s->results[k];
        r->task = t;
        r->main_score = NAN;
        s->n = k + 1;
        if (!p->quiet) cm_log(CM_LOG_INFO, "%s: merging %zu shards", t->name, n);
        cm_error_clear();
        int trc;
        if (t->type == CM_TASK_RETRIEVAL) trc = merge_retrieval(t, sh, n, opts, keep_items, s->model_dir, p, r);
        else if (old_layout(t, &sh[0])) trc = merge_copied(t, &sh[0], s->model_dir, r);
        else trc = merge_sliced(t, sh, n, opts, keep_items, s->model_dir, p, r);
        if (trc) {
            r->status = trc;
            r->error = cm_strdup(cm_last_error()[0] ? cm_last_error() : cm_status_str(trc));
            r->main_score = NAN;
            s->n_failed++;
            cm_log(CM_LOG_WARN, "%s not merged: %s", t->name, r->error ? r->error : "?");
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(sh[i].model_dir);
        cJSON_Delete(sh[i].manifest);
    }
    free(sh);
    return rc;
}
