/* run.c: evaluating a list of tasks and writing their results (see run.h). */
#include "eval/run.h"
#include "eval/console.h"
#include "eval/shard.h"
#include "cmteb/store.h"
#include "cmteb/evaluator.h"
#include "cmteb/results.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "cmteb/interrupt.h"
#include "cmteb/log.h"
#include "cmteb/hub.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cm_run_params cm_run_default_params(void) {
    cm_run_params p;
    memset(&p, 0, sizeof p);
    p.data_dir = "data";
    p.output_dir = "results";
    p.keep_items = 1;
    p.eval_options = cm_eval_default_options();
    return p;
}

cJSON *cm_eval_options_to_json(const cm_eval_options *o) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    if (o->retrieval_index) cJSON_AddStringToObject(j, "retrieval_index", o->retrieval_index);
    if (o->retrieval_index_params) cJSON_AddStringToObject(j, "retrieval_index_params", o->retrieval_index_params);
    if (o->corpus_chunk_size) cJSON_AddNumberToObject(j, "corpus_chunk_size", (double)o->corpus_chunk_size);
    if (o->predictions_top_k) cJSON_AddNumberToObject(j, "save_predictions", (double)o->predictions_top_k);
    if (o->mem_budget) cJSON_AddNumberToObject(j, "mem_budget", (double)o->mem_budget);
    if (o->clustering_protocol >= 0)
        cJSON_AddStringToObject(j, "clustering_protocol",
                                cm_clustering_protocol_name((cm_clustering_protocol)o->clustering_protocol));
    return j;
}

/* The main score of an existing result file, or NaN. */
static double existing_main_score(const char *path, const cm_task *t) {
    char *text = NULL;
    if (cm_read_file(path, &text, NULL)) return NAN;
    cJSON *o = cJSON_Parse(text);
    free(text);
    double v = NAN;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "scores"), t->split);
    const cJSON *e0 = cJSON_GetArrayItem(arr, 0);
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(e0, "main_score");
    if (cJSON_IsNumber(ms)) v = ms->valuedouble;
    cJSON_Delete(o);
    return v;
}

static cJSON *provenance(const cm_task *t, const cm_embedder *emb, const cm_run_params *p, const char *folder) {
    const cm_encoder_info *info = cm_embedder_info(emb);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "version", CMTEB_VERSION);
    cJSON_AddStringToObject(o, "semantics", "MTEB v1 evaluators (mteb 1.12)");
    if (p->model_spec) cJSON_AddStringToObject(o, "model_spec", p->model_spec);
    cJSON_AddStringToObject(o, "model_fingerprint", info->fingerprint);
    /* where and in what dtype the vectors were computed, when not the default (CPU, fp32) */
    if (info->device && info->dtype && (strcmp(info->device, "cpu") || strcmp(info->dtype, "fp32"))) {
        cJSON_AddStringToObject(o, "device", info->device);
        cJSON_AddStringToObject(o, "dtype", info->dtype);
    }
    if (info->uses_instructions && t->instruction) cJSON_AddStringToObject(o, "instruction", t->instruction);
    else cJSON_AddNullToObject(o, "instruction");
    cJSON_AddStringToObject(o, "data_folder", folder);
    char commit[41];   /* the commit the data is at (hub cache snapshot, or the download metadata), when known */
    if (cm_hub_folder_commit(folder, commit)) cJSON_AddStringToObject(o, "dataset_commit", commit);
    cJSON_AddStringToObject(o, "split", t->split);
    cJSON_AddStringToObject(o, "task_source", t->source);
    cJSON *set = p->settings ? cJSON_Duplicate(p->settings, 1) : NULL;
    if (set && !cJSON_AddItemToObject(o, "settings", set)) cJSON_Delete(set);   /* o NULL or the key's copy failed */
    cJSON *opts = cm_eval_options_to_json(&p->eval_options);
    if (!opts || !cJSON_GetArraySize(opts) || !cJSON_AddItemToObject(o, "options", opts)) cJSON_Delete(opts);
    return o;
}

/* Appends the names of the non-finite numbers under o (metric paths joined
 * with '.') to b and returns how many there are. */
static size_t non_finite_metrics(const cJSON *o, const char *prefix, cm_str *b) {
    size_t n = 0;
    for (const cJSON *c = o ? o->child : NULL; c; c = c->next) {
        char *name = c->string ? (prefix ? cm_asprintf("%s.%s", prefix, c->string) : cm_strdup(c->string)) : NULL;
        if (cJSON_IsNumber(c) && !isfinite(c->valuedouble)) {
            cm_str_printf(b, "%s%s", b->len ? ", " : "", name ? name : prefix ? prefix : "?");
            n++;
        } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            n += non_finite_metrics(c, name ? name : prefix, b);
        }
        free(name);
    }
    return n;
}

/* Marks the started task r failed for lack of memory, for an early return. */
static int started_failed(cm_run_summary *s, cm_run_task_result *r) {
    r->status = CM_ERR_NOMEM;
    s->n_failed++;
    return CM_ERR_NOMEM;
}

int cm_run_tasks(cm_embedder *emb, const cm_task *const *tasks, size_t n, const cm_run_params *p,
                 cm_run_summary *s) {
    memset(s, 0, sizeof *s);
    const cm_encoder_info *info = cm_embedder_info(emb);
    s->model_dir =
        p->model_dir ? cm_strdup(p->model_dir) : cm_results_model_dir(p->output_dir, info->name, info->revision);
    s->results = cm_calloc(n ? n : 1, sizeof *s->results);
    if (!s->model_dir || !s->results) return CM_ERR_NOMEM;
    /* one writer per results folder: a second run on it refuses (the lock dies with its process) */
    CM_TRY(cm_dir_lock(s->model_dir, ".cmteb/run.lock", &s->lock_fd));
    s->locked = 1;
    size_t stale = 0;   /* temporaries of runs killed with kill -9 (results, side files, predictions) */
    CM_TRY(cm_remove_stale_temps(s->model_dir, 2, &stale));
    if (stale) cm_log(CM_LOG_INFO, "%s: removed %zu temporary file(s) left by killed runs", s->model_dir, stale);
    CM_TRY(cm_results_write_model_meta(s->model_dir, info, NULL));
    int sharded = p->shard_count > 0;
    if (sharded) CM_TRY(cm_shard_write_manifest(s->model_dir, p->shard_index, p->shard_count, tasks, n, info,
                                                &p->eval_options, p->keep_items));

    for (size_t i = 0; i < n; i++) {
        if (cm_interrupted()) {   /* a signal during the startup, or in an earlier task's last moments */
            s->interrupted = 1;
            break;
        }
        const cm_task *t = tasks[i];
        cm_run_task_result *r = &s->results[i];
        r->task = t;
        r->main_score = NAN;
        /* --shard: retrieval searches a slice of the corpus; the other types embed a slice of their texts (the
         * embedder's slice mode); cmteb merge scores both */
        int shard_part = sharded;
        const int sliced = sharded && t->type != CM_TASK_RETRIEVAL;
        char *path = shard_part ? cm_shard_task_path(s->model_dir, t->name)
                                : cm_results_task_path(s->model_dir, t->name);
        if (!path) return started_failed(s, r);
        if (!p->overwrite && cm_file_exists(path)) {
            r->skipped = 1;
            r->main_score = existing_main_score(path, t);
            s->n_skipped++;
            s->n = i + 1;
            if (!p->quiet) cm_log(CM_LOG_INFO, "%s: result exists, skipped (use --overwrite to redo)", t->name);
            free(path);
            continue;
        }
        free(path);
        char *folder = cm_task_data_folder(t, p->data_dir);
        if (!folder) return started_failed(s, r);
        if (!p->quiet) cm_log(CM_LOG_INFO, "%s (%s): evaluating", t->name, cm_task_type_name(t->type));
        /* Evaluators and provenance() build JSON with cJSON_Add* calls whose
         * failures go unchecked (a member is dropped): a failed allocation
         * anywhere from here to the write fails the task instead. */
        size_t failures = cm_alloc_failures();
        cJSON *scores = cJSON_CreateObject();
        cJSON *items = p->keep_items ? cJSON_CreateObject() : NULL;
        if (!scores || (p->keep_items && !items)) {
            free(folder); cJSON_Delete(scores); cJSON_Delete(items);
            return CM_ERR_NOMEM;
        }
        /* --save-predictions: the evaluator writes MODEL_DIR/predictions/<Task>[.<subset>].<split>.trec */
        cm_eval_options options = p->eval_options;
        char *prefix = NULL;
        if (options.predictions_top_k) {
            char *pdir = cm_path_join(s->model_dir, "predictions");
            char *tname = cm_path_component_clean(t->name);   /* one component, as the result file's name */
            prefix = pdir && tname ? cm_path_join(pdir, tname) : NULL;
            free(pdir);
            free(tname);
            if (!prefix) {
                free(folder); cJSON_Delete(scores); cJSON_Delete(items);
                return started_failed(s, r);
            }
            options.predictions_prefix = prefix;
        }
        char *shard_prefix = NULL;   /* --shard: the retrieval evaluator's hits, the others' slice of vectors */
        char *slice_dir = NULL;
        if (shard_part) {
            shard_prefix = cm_shard_task_prefix(s->model_dir, t->name);
            slice_dir = shard_prefix && sliced ? cm_asprintf("%s.vectors", shard_prefix) : NULL;
            if (!shard_prefix || (sliced && !slice_dir)) {
                free(folder); free(prefix); free(shard_prefix); cJSON_Delete(scores); cJSON_Delete(items);
                return started_failed(s, r);
            }
            if (!sliced) {
                options.shard_index = p->shard_index;
                options.shard_count = p->shard_count;
                options.shard_prefix = shard_prefix;
            }
            options.predictions_top_k = 0;   /* the merge writes them */
        }
        cm_eval_ctx ctx = {emb, folder, p->threads, p->quiet, &options, items};
        double t0 = cm_now();
        cm_error_clear();
        const cm_evaluator_i *ev = cm_evaluator_for(t->type);
        if (sliced && p->overwrite) cm_store_remove(slice_dir);   /* --overwrite: this slice from scratch */
        int rc = sliced ? cm_embedder_slice_begin(emb, p->shard_index, p->shard_count, slice_dir) : CM_OK;
        if (!rc)
            rc = ev ? ev->evaluate(t, &ctx, scores)
                    : cm_error(CM_ERR_UNSUPPORTED, "no evaluator for type %d", (int)t->type);
        size_t n_slice = 0;
        if (sliced) {   /* the slice's vectors are committed whatever happened (an interrupted run resumes) */
            char why[2048];
            snprintf(why, sizeof why, "%s", cm_last_error());
            int src = cm_embedder_slice_end(emb, &n_slice);
            if (rc) cm_error(rc, "%s", why);
            else rc = src;
        }
        free(prefix);
        free(shard_prefix);
        free(slice_dir);
        r->seconds = cm_now() - t0;
        if (!rc && cm_alloc_failures() != failures)
            rc = cm_error(CM_ERR_NOMEM, "%s: out of memory while evaluating (its result would be incomplete)", t->name);
        if (!rc && shard_part) {   /* no metrics yet: the hits file, and what the merge writes beside them */
            cJSON *prov = provenance(t, emb, p, folder);
            rc = cm_alloc_failures() != failures
                     ? cm_error(CM_ERR_NOMEM, "%s: out of memory recording provenance", t->name)
                     : cm_shard_write_task(s->model_dir, t->name, p->shard_index, p->shard_count, r->seconds, prov);
            cJSON_Delete(prov);
            if (!rc && !p->quiet && sliced)
                cm_log(CM_LOG_INFO, "%s: shard %zu of %zu embedded its slice of the texts (%zu vectors, %.1fs); "
                       "cmteb merge scores it", t->name, p->shard_index, p->shard_count, n_slice, r->seconds);
            else if (!rc && !p->quiet)
                cm_log(CM_LOG_INFO, "%s: shard %zu of %zu searched (%.1fs); cmteb merge scores it", t->name,
                       p->shard_index, p->shard_count, r->seconds);
            shard_part = 2;   /* done: no result file of its own */
        }
        if (!rc && shard_part != 2) {
            const cJSON *ms = cJSON_GetObjectItemCaseSensitive(scores, "main_score");
            if (!cJSON_IsNumber(ms))
                rc = cm_error(CM_ERR_INTERNAL, "%s: evaluator gave no main_score", t->name);
            else
                r->main_score = ms->valuedouble;
        }
        /* Degenerate data (one row, constant gold scores, all-zero vectors) gives NaN metrics: the
         * result file records them as null, and a NaN main score fails the task with the reason. */
        cm_str bad = {0};
        size_t n_bad = rc || shard_part == 2 ? 0 : non_finite_metrics(scores, NULL, &bad);
        if (n_bad)
            cm_log(CM_LOG_WARN, "%s: %zu metric(s) not finite, written as null: %s", t->name, n_bad,
                   bad.s ? bad.s : "?");
        cm_str_free(&bad);
        int nan_main = !rc && shard_part != 2 && !isfinite(r->main_score);
        if (!rc && shard_part != 2) {
            cJSON *prov = provenance(t, emb, p, folder);
            if (cm_alloc_failures() != failures)
                rc = cm_error(CM_ERR_NOMEM, "%s: out of memory recording provenance", t->name);
            else
                rc = cm_results_write_task(s->model_dir, t, scores, r->seconds, prov, items);
            cJSON_Delete(prov);
        }
        if (!rc && nan_main) {
            rc = cm_error(CM_ERR_NUMERIC, "main score %s is %s (written as null): degenerate data, e.g. constant "
                          "gold scores, a single row or all-zero vectors", t->main_score,
                          isnan(r->main_score) ? "NaN" : "infinite");
        }
        if (rc) {
            r->status = rc;
            r->error = cm_strdup(cm_last_error()[0] ? cm_last_error() : cm_status_str(rc));
            r->main_score = NAN;
            s->n_failed++;
            cm_log(CM_LOG_WARN, "%s failed: %s", t->name, r->error ? r->error : "?");
        } else if (!p->quiet && shard_part != 2) {
            cm_log(CM_LOG_INFO, "%s: %s = %.5f (%.1fs)", t->name, t->main_score, r->main_score, r->seconds);
        }
        cJSON_Delete(scores);
        cJSON_Delete(items);
        free(folder);
        int frc = cm_embedder_flush(emb);
        if (frc) cm_log(CM_LOG_WARN, "embedding cache not saved: %s", cm_last_error());
        s->n = i + 1;   /* the summary holds the tasks done, also when an error returns early */
        if (cm_interrupted()) {
            s->n = i + 1;   /* the tasks after this one were not started */
            s->interrupted = 1;
            break;
        }
    }
    return CM_OK;
}

void cm_run_print_table(const cm_run_summary *s, FILE *f) {
    size_t w = 4;
    for (size_t i = 0; i < s->n; i++) {
        size_t l = strlen(s->results[i].task->name);
        if (l > w) w = l;
    }
    fprintf(f, "| %-*s | %-18s | %-16s | %7s | %8s |\n", (int)w, "Task", "Type", "Metric", "Score", "Time (s)");
    fprintf(f, "|-");
    for (size_t i = 0; i < w; i++) fputc('-', f);
    fprintf(f, "-|--------------------|------------------|---------|----------|\n");
    double sum = 0;
    size_t cnt = 0;
    for (size_t i = 0; i < s->n; i++) {
        const cm_run_task_result *r = &s->results[i];
        char score[32], tm[32];
        if (r->status == CM_ERR_NUMERIC) snprintf(score, sizeof score, "n/a NaN");   /* reason below the table */
        else if (r->status) snprintf(score, sizeof score, "FAILED");
        else if (isnan(r->main_score)) snprintf(score, sizeof score, "n/a");
        else {
            snprintf(score, sizeof score, "%.2f", 100 * r->main_score);
            sum += 100 * r->main_score;
            cnt++;
        }
        if (r->skipped) snprintf(tm, sizeof tm, "cached");
        else snprintf(tm, sizeof tm, "%.1f", r->seconds);
        fprintf(f, "| %-*s | %-18s | %-16s | %7s | %8s |\n", (int)w, r->task->name, cm_task_type_name(r->task->type),
                r->task->main_score, score, tm);
    }
    if (cnt > 1) fprintf(f, "\nMean over %zu tasks: %.2f\n", cnt, sum / (double)cnt);
    if (s->n_failed) {
        fprintf(f, "\n%zu task(s) failed:\n", s->n_failed);
        for (size_t i = 0; i < s->n; i++)
            if (s->results[i].status) {
                fprintf(f, "  %s: ", s->results[i].task->name);
                cm_console_put_escaped(f, s->results[i].error);   /* may quote data */
                fputc('\n', f);
            }
    }
}

void cm_run_summary_free(cm_run_summary *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) free(s->results[i].error);
    free(s->results);
    free(s->model_dir);
    if (s->locked) cm_dir_unlock(s->lock_fd);
    memset(s, 0, sizeof *s);
}
