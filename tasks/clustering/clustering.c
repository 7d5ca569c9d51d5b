/*
 * clustering.c: the Clustering evaluator.
 *
 * Protocol "v1" (MTEB 1.x AbsTaskClustering + ClusteringEvaluator, the
 * default): for every cluster set of the eval split, embed its sentences
 * (role query, the task instruction), run MiniBatchKMeans with k = number of
 * distinct labels in the set, batch size "batch_size" (default 500),
 * k-means++ with one init, on a fresh numpy RandomState(42) (what the
 * reseeded global RNG gives MTEB), and score V-measure against the labels.
 * Writes "v_measure" (mean over sets), "v_measure_std" (population std),
 * "v_measures" (per set) and "main_score".
 *
 * Protocol "fast" (MTEB 2's AbsTaskClustering, the ClusteringFast of the v2
 * tasks), chosen by the run option "clustering_protocol": "fast" or the task
 * setting "protocol": "fast":
 *   1. set-layout data is pooled into one document list, dropping repeated
 *      sentences (first occurrence wins), and capped at "max_size" (100000)
 *      documents by random.Random(seed).sample;
 *   2. a random.Random(seed) stream samples the documents to embed:
 *      int("max_fraction_of_documents_to_embed" (0.04) * N) of them, or
 *      "max_document_to_embed" when the fraction is null;
 *   3. for each label level (up to "max_depth"): k = distinct labels at that
 *      level; "n_bootstrap" (10) times draw "max_documents_per_cluster"
 *      (16384) documents with replacement (random.choices on the same
 *      stream), cluster them with MiniBatchKMeans (batch "fast_batch_size",
 *      512, RandomState(seed) per fit) and score V-measure;
 *   4. "v_measure" / "v_measure_std" over all levels and rounds, and
 *      "v_measures": {"Level 0": [...], ...}.
 *
 * Per-item data: {"kind": "mean", "ids": [set index | "Level L/round r"],
 * "values": [V-measure]}.
 */
#include "cmteb/evaluator.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "datasets/clustering_data.h"
#include "tasks/clustering/kmeans.h"
#include "tasks/clustering/vmeasure.h"
#include "tasks/random/random.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A non-negative integer setting; absent -> dflt. */
static int int_setting(const cm_task *t, const char *key, double dflt, double lo, double *out) {
    const cJSON *v = cm_task_setting(t, key);
    if (!v) { *out = dflt; return CM_OK; }
    if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble != floor(v->valuedouble) || v->valuedouble > 1e12)
        return cm_error(CM_ERR_FORMAT, "%s: task %s: field 'settings.%s': expected an integer >= %g", t->source,
                        t->name, key, lo);
    *out = v->valuedouble;
    return CM_OK;
}

/* Mean and population standard deviation (np.std). */
static void mean_std(const double *v, size_t n, double *mean, double *std) {
    double m = 0.0, s = 0.0;
    for (size_t i = 0; i < n; i++) m += v[i];
    m = n ? m / (double)n : 0.0;
    for (size_t i = 0; i < n; i++) s += (v[i] - m) * (v[i] - m);
    *mean = m;
    *std = n ? sqrt(s / (double)n) : 0.0;
}

static const char *protocol_of(const cm_task *task, const cm_eval_ctx *ctx) {
    const cJSON *o = ctx->options ? cJSON_GetObjectItemCaseSensitive(ctx->options, "clustering_protocol") : NULL;
    if (cJSON_IsString(o)) return o->valuestring;
    return cm_task_str(task, "protocol", "v1");
}

/* Clusters rows X[0..n) into k groups on a fresh RandomState(seed) and scores
 * them against truth[0..n). */
static int cluster_and_score(const float *X, size_t n, size_t d, const int *truth, int k, int batch, uint32_t seed,
                             int threads, double *v) {
    int *pred = cm_malloc((n ? n : 1) * sizeof *pred);
    if (!pred) return CM_ERR_NOMEM;
    cm_kmeans_params p = cm_kmeans_default_params();
    p.n_clusters = k;
    p.batch_size = batch;
    p.threads = threads;
    cm_mt19937 rng;
    cm_mt_seed(&rng, seed);
    int rc = cm_minibatch_kmeans(X, n, d, &p, &rng, pred, NULL, NULL);
    if (!rc) rc = cm_v_measure(truth, pred, n, v, NULL, NULL);
    free(pred);
    return rc;
}

static int add_items(cm_eval_ctx *ctx, cJSON *ids, const double *vals, size_t n) {
    if (!ctx->items) { cJSON_Delete(ids); return CM_OK; }
    cJSON *v = cJSON_CreateArray();
    if (!ids || !v) { cJSON_Delete(ids); cJSON_Delete(v); return CM_ERR_NOMEM; }
    for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(v, cJSON_CreateNumber(vals[i]));
    cJSON_AddStringToObject(ctx->items, "kind", "mean");
    cJSON_AddItemToObject(ctx->items, "ids", ids);
    cJSON_AddItemToObject(ctx->items, "values", v);
    return CM_OK;
}

static int finish(const cm_task *task, cJSON *scores, const double *v, size_t n, cJSON *v_measures) {
    double mean, std;
    mean_std(v, n, &mean, &std);
    cJSON_AddNumberToObject(scores, "v_measure", mean);
    cJSON_AddNumberToObject(scores, "v_measure_std", std);
    cJSON_AddItemToObject(scores, "v_measures", v_measures);
    const cJSON *main = cJSON_GetObjectItemCaseSensitive(scores, task->main_score);
    if (!cJSON_IsNumber(main))
        return cm_error(CM_ERR_FORMAT, "%s: main_score '%s' is not a clustering score (expected v_measure or v_measure_std)",
                        task->name, task->main_score);
    cJSON_AddNumberToObject(scores, "main_score", main->valuedouble);
    return CM_OK;
}

/* ---- v1 -------------------------------------------------------------------------- */
static int eval_v1(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores, const cm_clustering_data *data) {
    double bs = 0;
    CM_TRY(int_setting(task, "batch_size", 500, 1, &bs));
    double seed = 0;
    CM_TRY(int_setting(task, "seed", 42, 0, &seed));
    const size_t dim = cm_embedder_dim(ctx->embedder);
    double *v = cm_calloc(data->n_sets, sizeof *v);
    cJSON *list = cJSON_CreateArray(), *ids = ctx->items ? cJSON_CreateArray() : NULL;
    int rc = v && list ? CM_OK : CM_ERR_NOMEM;
    float *X = NULL;
    size_t cap = 0;
    for (size_t si = 0; !rc && si < data->n_sets; si++) {
        const cm_cluster_set *s = &data->sets[si];
        if (s->n > cap) {
            free(X);
            cap = s->n;
            if (!(X = cm_malloc(cap * dim * sizeof *X))) { rc = CM_ERR_NOMEM; break; }
        }
        char label[256];
        snprintf(label, sizeof label, "%s: set %zu/%zu", task->name, si + 1, data->n_sets);
        if ((rc = cm_embed(ctx->embedder, (const char *const *)s->texts, s->n, CM_ROLE_QUERY, task->instruction,
                           label, X)))
            break;
        if ((rc = cluster_and_score(X, s->n, dim, s->labels, s->n_labels[0], (int)bs, (uint32_t)seed, ctx->threads,
                                    &v[si]))) {
            rc = cm_error_wrap(rc, "%s: %s: cluster set %zu", task->name, data->path, si);
            break;
        }
        cJSON_AddItemToArray(list, cJSON_CreateNumber(v[si]));
        if (ids) {
            char id[32];
            snprintf(id, sizeof id, "%zu", si);
            cJSON_AddItemToArray(ids, cJSON_CreateString(id));
        }
        if (!ctx->quiet)
            fprintf(stderr, "%s: set %zu/%zu: %zu texts, %d labels, v_measure %.4f\n", task->name, si + 1,
                    data->n_sets, s->n, s->n_labels[0], v[si]);
    }
    free(X);
    if (!rc) {
        rc = finish(task, scores, v, data->n_sets, list);
        list = NULL;
    }
    if (!rc) {
        rc = add_items(ctx, ids, v, data->n_sets);
        ids = NULL;
    }
    cJSON_Delete(list);
    cJSON_Delete(ids);
    free(v);
    return rc;
}

/* ---- fast ------------------------------------------------------------------------ */
typedef struct {
    size_t n;
    const char **texts;   /* borrowed from the data */
    const int   *labels;  /* (n, depth) */
    int          depth;
} doc_list;

/* A string hash set for de-duplicating pooled sentences. */
static int seen_before(const char **slot, size_t cap, const char *s) {
    size_t i = (size_t)cm_hash64(s, strlen(s), 7) & (cap - 1);
    while (slot[i]) {
        if (!strcmp(slot[i], s)) return 1;
        i = (i + 1) & (cap - 1);
    }
    slot[i] = s;
    return 0;
}

static int get_fraction(const cm_task *t, const cm_eval_ctx *ctx, double *frac, int *has) {
    const cJSON *v = cm_task_setting(t, "max_fraction_of_documents_to_embed");
    (void)ctx;
    *has = 1;
    *frac = 0.04;
    if (!v) return CM_OK;
    if (cJSON_IsNull(v)) { *has = 0; return CM_OK; }
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) || v->valuedouble > 1)
        return cm_error(CM_ERR_FORMAT, "%s: task %s: field 'settings.max_fraction_of_documents_to_embed': expected a "
                        "number in (0, 1] or null", t->source, t->name);
    *frac = v->valuedouble;
    return CM_OK;
}

static int eval_fast(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores, const cm_clustering_data *data) {
    double seed = 0, max_size = 0, per_cluster = 0, rounds = 0, batch = 0, max_depth = 0, max_docs = 0;
    CM_TRY(int_setting(task, "seed", 42, 0, &seed));
    CM_TRY(int_setting(task, "max_size", 100000, 1, &max_size));
    CM_TRY(int_setting(task, "max_documents_per_cluster", 16384, 1, &per_cluster));
    CM_TRY(int_setting(task, "n_bootstrap", 10, 1, &rounds));
    CM_TRY(int_setting(task, "fast_batch_size", 512, 1, &batch));
    CM_TRY(int_setting(task, "max_depth", 0, 0, &max_depth));
    CM_TRY(int_setting(task, "max_document_to_embed", 0, 0, &max_docs));
    double frac;
    int has_frac;
    CM_TRY(get_fraction(task, ctx, &frac, &has_frac));
    if (cm_task_setting(task, "max_document_to_embed") && !cm_task_setting(task, "max_fraction_of_documents_to_embed"))
        has_frac = 0;   /* a task that sets the count means it, as MTEB's per-task overrides do */
    if (has_frac && max_docs > 0)
        return cm_error(CM_ERR_FORMAT, "%s: task %s: set only one of settings.max_document_to_embed and "
                        "settings.max_fraction_of_documents_to_embed", task->source, task->name);

    /* 1. the pooled document list */
    doc_list docs = {0};
    size_t total = 0;
    for (size_t i = 0; i < data->n_sets; i++) total += data->sets[i].n;
    const int depth = data->sets[0].depth;
    const char **texts = cm_malloc((total ? total : 1) * sizeof *texts);
    int *labels = cm_malloc((total ? total : 1) * (size_t)depth * sizeof *labels);
    size_t *pick = NULL, *boot = NULL;
    float *X = NULL, *Xb = NULL;
    int *lev = NULL, *truth = NULL;
    double *vals = NULL;
    cJSON *by_level = NULL, *ids = NULL;
    int rc = texts && labels ? CM_OK : CM_ERR_NOMEM;
    if (!rc && data->flat) {
        const cm_cluster_set *s = &data->sets[0];
        for (size_t i = 0; i < s->n; i++) texts[i] = s->texts[i];
        memcpy(labels, s->labels, s->n * (size_t)depth * sizeof *labels);
        docs.n = s->n;
    } else if (!rc) {
        size_t cap = 16;
        while (cap < 2 * total + 2) cap <<= 1;
        const char **slot = cm_calloc(cap, sizeof *slot);
        if (!slot) rc = CM_ERR_NOMEM;
        for (size_t si = 0; !rc && si < data->n_sets; si++) {
            const cm_cluster_set *s = &data->sets[si];
            for (size_t i = 0; i < s->n; i++) {
                if (seen_before(slot, cap, s->texts[i])) continue;
                texts[docs.n] = s->texts[i];
                labels[docs.n] = s->labels[i];
                docs.n++;
            }
        }
        free(slot);
        if (!rc && docs.n > (size_t)max_size) {   /* _convert_to_fast's own random.Random(seed) */
            cm_mt19937 conv;
            cm_py_seed(&conv, (uint64_t)seed);
            size_t *keep = cm_malloc((size_t)max_size * sizeof *keep);
            const char **t2 = cm_malloc((size_t)max_size * sizeof *t2);
            int *l2 = cm_malloc((size_t)max_size * sizeof *l2);
            if (!keep || !t2 || !l2 || (rc = cm_py_sample(&conv, docs.n, (size_t)max_size, keep))) {
                if (!rc) rc = CM_ERR_NOMEM;
            } else {
                for (size_t i = 0; i < (size_t)max_size; i++) { t2[i] = texts[keep[i]]; l2[i] = labels[keep[i]]; }
                memcpy(texts, t2, (size_t)max_size * sizeof *t2);
                memcpy(labels, l2, (size_t)max_size * sizeof *l2);
                docs.n = (size_t)max_size;
            }
            free(keep); free(t2); free(l2);
        }
    }
    /* 2. documents to embed */
    cm_mt19937 rs;
    cm_py_seed(&rs, (uint64_t)seed);
    size_t n_embed = docs.n;
    if (!rc && (has_frac || max_docs > 0)) {
        size_t want = has_frac ? (size_t)(frac * (double)docs.n) : (size_t)max_docs;
        n_embed = want < docs.n ? want : docs.n;
        pick = cm_malloc((n_embed ? n_embed : 1) * sizeof *pick);
        if (!pick) rc = CM_ERR_NOMEM;
        else rc = cm_py_sample(&rs, docs.n, n_embed, pick);
    }
    const size_t dim = cm_embedder_dim(ctx->embedder);
    const char **etexts = NULL;
    if (!rc) {
        etexts = cm_malloc((n_embed ? n_embed : 1) * sizeof *etexts);
        X = cm_malloc((n_embed ? n_embed : 1) * dim * sizeof *X);
        if (!etexts || !X) rc = CM_ERR_NOMEM;
    }
    if (!rc) {
        for (size_t i = 0; i < n_embed; i++) etexts[i] = texts[pick ? pick[i] : i];
        char label[256];
        snprintf(label, sizeof label, "%s: %zu sampled documents", task->name, n_embed);
        rc = cm_embed(ctx->embedder, etexts, n_embed, CM_ROLE_QUERY, task->instruction, label, X);
    }
    if (!rc && n_embed == 0) rc = cm_error(CM_ERR_FORMAT, "%s: no documents to cluster after sampling", task->name);
    /* 3. levels x bootstrap rounds */
    int levels = depth;
    if (max_depth > 0 && (int)max_depth < levels) levels = (int)max_depth;
    const size_t nb = (size_t)per_cluster, nr = (size_t)rounds;
    if (!rc) {
        lev = cm_malloc(n_embed * sizeof *lev);
        truth = cm_malloc(nb * sizeof *truth);
        boot = cm_malloc(nb * sizeof *boot);
        Xb = cm_malloc(nb * dim * sizeof *Xb);
        vals = cm_malloc((size_t)levels * nr * sizeof *vals);
        by_level = cJSON_CreateObject();
        ids = ctx->items ? cJSON_CreateArray() : NULL;
        if (!lev || !truth || !boot || !Xb || !vals || !by_level) rc = CM_ERR_NOMEM;
    }
    size_t nv = 0;
    for (int L = 0; !rc && L < levels; L++) {
        /* documents with a label at this level, and their distinct labels */
        size_t nvalid = 0;
        int maxid = -1;
        for (size_t i = 0; i < n_embed; i++) {
            int l = labels[(pick ? pick[i] : i) * (size_t)depth + (size_t)L];
            if (l >= 0) { lev[nvalid++] = (int)i; if (l > maxid) maxid = l; }
        }
        char *present = cm_calloc((size_t)maxid + 2, 1);
        if (!present) { rc = CM_ERR_NOMEM; break; }
        int k = 0;
        for (size_t j = 0; j < nvalid; j++) {
            int l = labels[(pick ? pick[lev[j]] : (size_t)lev[j]) * (size_t)depth + (size_t)L];
            if (!present[l]) { present[l] = 1; k++; }
        }
        free(present);
        char key[32];
        snprintf(key, sizeof key, "Level %d", L);
        cJSON *arr = cJSON_AddArrayToObject(by_level, key);
        if (!arr) { rc = CM_ERR_NOMEM; break; }
        for (size_t r = 0; !rc && r < nr; r++) {
            cm_py_choices(&rs, nvalid, nb, boot);
            for (size_t j = 0; j < nb; j++) {
                size_t row = (size_t)lev[boot[j]];
                memcpy(Xb + j * dim, X + row * dim, dim * sizeof *Xb);
                truth[j] = labels[(pick ? pick[row] : row) * (size_t)depth + (size_t)L];
            }
            if ((rc = cluster_and_score(Xb, nb, dim, truth, k, (int)batch, (uint32_t)seed, ctx->threads, &vals[nv]))) {
                rc = cm_error_wrap(rc, "%s: level %d, round %zu", task->name, L, r + 1);
                break;
            }
            cJSON_AddItemToArray(arr, cJSON_CreateNumber(vals[nv]));
            if (ids) {
                char id[48];
                snprintf(id, sizeof id, "Level %d/%zu", L, r);
                cJSON_AddItemToArray(ids, cJSON_CreateString(id));
            }
            if (!ctx->quiet)
                fprintf(stderr, "%s: level %d, round %zu/%zu: %zu documents, %d labels, v_measure %.4f\n", task->name,
                        L, r + 1, nr, nb, k, vals[nv]);
            nv++;
        }
    }
    if (!rc) {
        rc = finish(task, scores, vals, nv, by_level);
        by_level = NULL;
    }
    if (!rc) {
        rc = add_items(ctx, ids, vals, nv);
        ids = NULL;
    }
    cJSON_Delete(by_level);
    cJSON_Delete(ids);
    free(texts); free(labels); free(pick); free(boot); free(X); free(Xb); free(lev); free(truth); free(vals);
    free(etexts);
    return rc;
}

int cm_eval_clustering(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores) {
    const char *proto = protocol_of(task, ctx);
    int fast = !strcmp(proto, "fast");
    if (!fast && strcmp(proto, "v1"))
        return cm_error(CM_ERR_ARG, "%s: clustering protocol '%s' is not known (expected v1 or fast)", task->name, proto);
    cm_clustering_data *data = NULL;
    int rc = cm_clustering_data_load(&data, ctx->data_folder, task->subset, task->split,
                                     cm_task_str(task, "text_field", "sentences"),
                                     cm_task_str(task, "label_field", "labels"));
    if (rc) return cm_error_wrap(rc, "%s", task->name);
    if (!fast && data->flat)
        rc = cm_error(CM_ERR_FORMAT, "%s: %s holds one document per row; the v1 protocol needs cluster sets "
                      "(use --clustering-protocol fast)", task->name, data->path);
    else
        rc = fast ? eval_fast(task, ctx, scores, data) : eval_v1(task, ctx, scores, data);
    cm_clustering_data_free(data);
    return rc;
}
