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
 * tasks), chosen by the run option clustering_protocol (cm_eval_options) or
 * the task setting "protocol": "fast":
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
#include "cmteb/strmap.h"
#include "cmteb/evaluator.h"
#include "cmteb/log.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "datasets/clustering_data.h"
#include "tasks/clustering/kmeans.h"
#include "tasks/clustering/vmeasure.h"
#include "tasks/random/random.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Mean and population standard deviation (np.std). */
static void mean_std(const double *v, size_t n, double *mean, double *std) {
    double m = 0.0, s = 0.0;
    for (size_t i = 0; i < n; i++) m += v[i];
    m = n ? m / (double)n : 0.0;
    for (size_t i = 0; i < n; i++) s += (v[i] - m) * (v[i] - m);
    *mean = m;
    *std = n ? sqrt(s / (double)n) : 0.0;
}

/* The run option --clustering-protocol wins over the task's "protocol". */
static int protocol_of(const cm_task *task, const cm_eval_ctx *ctx) {
    if (ctx->options && ctx->options->clustering_protocol >= 0) return ctx->options->clustering_protocol;
    return task->settings.clustering.protocol;
}

/* Clusters the rows P[0..n) into k groups on a fresh RandomState(seed) and
 * scores them against truth[0..n). */
static int cluster_and_score(const float *const *P, size_t n, size_t d, const int *truth, int k, int batch,
                             uint32_t seed, int threads, double *v) {
    int *pred = cm_malloc((n ? n : 1) * sizeof *pred);
    if (!pred) return CM_ERR_NOMEM;
    cm_kmeans_params p = cm_kmeans_default_params();
    p.n_clusters = k;
    p.batch_size = batch;
    p.threads = threads;
    cm_mt19937 rng;
    cm_mt_seed(&rng, seed);
    int rc = cm_minibatch_kmeans_rows(P, n, d, &p, &rng, pred, NULL, NULL);
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
    cJSON_AddItemToObjectCS(ctx->items, "ids", ids);
    cJSON_AddItemToObjectCS(ctx->items, "values", v);
    return CM_OK;
}

static int finish(const cm_task *task, cJSON *scores, const double *v, size_t n, cJSON *v_measures) {
    double mean, std;
    mean_std(v, n, &mean, &std);
    cJSON_AddNumberToObject(scores, "v_measure", mean);
    cJSON_AddNumberToObject(scores, "v_measure_std", std);
    cJSON_AddItemToObjectCS(scores, "v_measures", v_measures);
    const cJSON *main = cJSON_GetObjectItemCaseSensitive(scores, task->main_score);
    if (!cJSON_IsNumber(main))
        return cm_error(CM_ERR_FORMAT,
                        "%s: main_score '%s' is not a clustering score (expected v_measure or v_measure_std)",
                        task->name, task->main_score);
    cJSON_AddNumberToObject(scores, "main_score", main->valuedouble);
    return CM_OK;
}

/* ---- v1 -------------------------------------------------------------------------- */
/* Bytes of vectors that v1 holds at once to cluster several sets side by side; sets larger than this run one
 * at a time with every thread in their k-means. */
#define CLU_GROUP_BYTES ((size_t)64 << 20)

/* Sets [s0, s1) clustered: the first failure (prc/perr, per set) as the error, else their V-measures appended to
 * list (and their ids to ids) in set order. */
static int collect(const cm_task *task, const cm_eval_ctx *ctx, const cm_clustering_data *data, size_t s0, size_t s1,
                   const double *v, const int *prc, const char *perr, cJSON *list, cJSON *ids) {
    for (size_t si = s0; si < s1; si++) {
        if (prc[si]) {
            const char *why = perr[si * 512] ? perr + si * 512 : cm_status_str(prc[si]);
            return cm_error(prc[si], "%s: %s: cluster set %zu: %s", task->name, data->path, si, why);
        }
        cJSON_AddItemToArray(list, cJSON_CreateNumber(v[si]));
        if (ids) {
            char id[32];
            snprintf(id, sizeof id, "%zu", si);
            cJSON_AddItemToArray(ids, cJSON_CreateString(id));
        }
        if (!ctx->quiet)
            cm_log(CM_LOG_DEBUG, "%s: set %zu/%zu: %zu texts, %d labels, v_measure %.4f", task->name, si + 1,
                   data->n_sets, data->sets[si].n, data->sets[si].n_labels[0], v[si]);
    }
    return CM_OK;
}

static int eval_v1(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores, const cm_clustering_data *data) {
    const double bs = (double)task->settings.clustering.batch_size, seed = (double)task->settings.clustering.seed;
    const size_t dim = cm_embedder_dim(ctx->embedder);
    /* Sets are embedded one after another (the embedder is not shared between threads) into G slots, as many
     * as CLU_GROUP_BYTES holds, then the G sets are clustered by the threads, one set per thread at a time
     * (dynamic: a thread done with a small set takes the next), each k-means single-threaded. A k-means'
     * labels and inertia do not depend on its thread count (kmeans.h): the scores are the sequential loop's.
     * When the embedder lends every set's vectors (a precomputed float32 store, no cache), the sets are
     * clustered straight from the store's map: no slots to fill (fresh memory and a copy of every vector) and
     * one group of all the sets (no wait for the slowest set of each group). Either way k-means reads each set
     * through its row pointers P + off[si]. */
    size_t maxn = 1;
    for (size_t si = 0; si < data->n_sets; si++) maxn = data->sets[si].n > maxn ? data->sets[si].n : maxn;
    const size_t per = maxn * dim;   /* floats per slot */
    const int nt = ctx->threads > 0 ? ctx->threads : omp_get_max_threads();
    size_t G = 1;
    if (nt > 1) {
        const size_t slot = per * sizeof(float);
        size_t fit = slot ? CLU_GROUP_BYTES / slot : 1;
        if (fit > data->n_sets) fit = data->n_sets;
        G = fit > 1 ? (fit < 4096 ? fit : 4096) : 1;
    }
    double *v = cm_calloc(data->n_sets ? data->n_sets : 1, sizeof *v);
    int *prc = cm_calloc(data->n_sets ? data->n_sets : 1, sizeof *prc);
    char *perr = cm_malloc((data->n_sets ? data->n_sets : 1) * 512);
    size_t *off = cm_malloc((data->n_sets ? data->n_sets : 1) * sizeof *off), total = 0;
    for (size_t si = 0; off && si < data->n_sets; si++) { off[si] = total; total += data->sets[si].n; }
    const float **P = cm_malloc((total ? total : 1) * sizeof *P);
    cJSON *list = cJSON_CreateArray(), *ids = ctx->items ? cJSON_CreateArray() : NULL;
    int rc = v && prc && perr && off && P && list ? CM_OK : CM_ERR_NOMEM;
    int lent = !rc;
    for (size_t si = 0; lent && !rc && si < data->n_sets; si++) {
        const cm_cluster_set *s = &data->sets[si];
        char label[256];
        snprintf(label, sizeof label, "%s: set %zu/%zu", task->name, si + 1, data->n_sets);
        rc = cm_embed_view(ctx->embedder, (const char *const *)s->texts, s->n, CM_ROLE_QUERY, task->instruction,
                           label, NULL, P + off[si]);
        if (rc == CM_ERR_UNSUPPORTED) { rc = CM_OK; lent = 0; }
    }
    float *X = NULL;
    if (!rc && lent) {
        G = data->n_sets ? data->n_sets : 1;
    } else if (!rc) {
        X = cm_malloc(G * per * sizeof *X);
        if (!X && G > 1) {   /* no room for the slots (a memory cap): one set at a time, as it always worked */
            G = 1;
            X = cm_malloc(per * sizeof *X);
        }
        if (!X) rc = CM_ERR_NOMEM;
    }
    for (size_t g0 = 0; !rc && g0 < data->n_sets; g0 += G) {
        const size_t gn = data->n_sets - g0 < G ? data->n_sets - g0 : G;
        for (size_t q = 0; !lent && !rc && q < gn; q++) {   /* the slots: embedded, then pointed at */
            const size_t si = g0 + q;
            const cm_cluster_set *s = &data->sets[si];
            float *slot = X + q * per;
            char label[256];
            snprintf(label, sizeof label, "%s: set %zu/%zu", task->name, si + 1, data->n_sets);
            rc = cm_embed(ctx->embedder, (const char *const *)s->texts, s->n, CM_ROLE_QUERY, task->instruction,
                          label, slot);
            for (size_t i = 0; i < s->n; i++) P[off[si] + i] = slot + i * dim;
        }
        if (rc) break;
        const int tn = gn < (size_t)nt ? (int)gn : nt;
#pragma omp parallel for num_threads(tn) schedule(dynamic, 1) if (tn > 1)
        for (size_t si = g0; si < g0 + gn; si++) {
            const cm_cluster_set *s = &data->sets[si];
            prc[si] = cluster_and_score(P + off[si], s->n, dim, s->labels, s->n_labels[0], (int)bs, (uint32_t)seed,
                                        tn > 1 ? 1 : ctx->threads, &v[si]);
            if (prc[si]) snprintf(perr + si * 512, 512, "%s", cm_last_error()); /* messages are per thread */
        }
        rc = collect(task, ctx, data, g0, g0 + gn, v, prc, perr, list, ids);
    }
    free(X);
    free(P);
    free(off);
    free(prc);
    free(perr);
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

static int eval_fast(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores, const cm_clustering_data *data) {
    /* checked when the task was parsed (datasets/task_settings.c), including
     * that at most one of the fraction and the count is in force */
    const cm_clustering_settings *cs = &task->settings.clustering;
    const double seed = (double)cs->seed, max_size = (double)cs->max_size;
    const double per_cluster = (double)cs->max_documents_per_cluster, rounds = (double)cs->n_bootstrap;
    const double batch = (double)cs->fast_batch_size, max_depth = (double)cs->max_depth;
    const double max_docs = (double)cs->max_document_to_embed, frac = cs->max_fraction_of_documents_to_embed;
    const int has_frac = !isnan(frac);

    /* 1. the pooled document list */
    doc_list docs = {0};
    size_t total = 0;
    for (size_t i = 0; i < data->n_sets; i++) total += data->sets[i].n;
    const int depth = data->sets[0].depth;
    const char **texts = cm_malloc((total ? total : 1) * sizeof *texts);
    int *labels = cm_malloc((total ? total : 1) * (size_t)depth * sizeof *labels);
    size_t *pick = NULL, *boot = NULL;
    float *X = NULL;
    const float **Pb = NULL;   /* (nb) a round's bootstrap rows of X */
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
        /* the sentences seen so far (keys borrowed from the data); the first occurrence wins */
        cm_strmap_params mp = cm_strmap_default_params();
        mp.expected = total;
        cm_strmap *seen = NULL;
        rc = cm_strmap_init(&seen, &mp);
        for (size_t si = 0; !rc && si < data->n_sets; si++) {
            const cm_cluster_set *s = &data->sets[si];
            for (size_t i = 0; !rc && i < s->n; i++) {
                uint64_t first = docs.n;
                int fresh = cm_strmap_insertn(seen, s->texts[i], strlen(s->texts[i]), &first);
                if (fresh < 0) rc = fresh;
                if (fresh != 1) continue;
                texts[docs.n] = s->texts[i];
                labels[docs.n] = s->labels[i];
                docs.n++;
            }
        }
        cm_strmap_free(seen);
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
        Pb = cm_malloc((nb ? nb : 1) * sizeof *Pb);
        vals = cm_malloc((size_t)levels * nr * sizeof *vals);
        by_level = cJSON_CreateObject();
        ids = ctx->items ? cJSON_CreateArray() : NULL;
        if (!lev || !truth || !boot || !Pb || !vals || !by_level) rc = CM_ERR_NOMEM;
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
                Pb[j] = X + row * dim;
                truth[j] = labels[(pick ? pick[row] : row) * (size_t)depth + (size_t)L];
            }
            if ((rc = cluster_and_score(Pb, nb, dim, truth, k, (int)batch, (uint32_t)seed, ctx->threads, &vals[nv]))) {
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
                cm_log(CM_LOG_DEBUG, "%s: level %d, round %zu/%zu: %zu documents, %d labels, v_measure %.4f",
                       task->name, L, r + 1, nr, nb, k, vals[nv]);
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
    free(texts); free(labels); free(pick); free(boot); free(X); free(Pb); free(lev); free(truth); free(vals);
    free(etexts);
    return rc;
}

int cm_eval_clustering(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores) {
    const int proto = protocol_of(task, ctx);
    const int fast = proto == CM_CLUSTERING_FAST;
    if (!fast && proto != CM_CLUSTERING_V1)
        return cm_error(CM_ERR_ARG, "%s: clustering protocol %d is not known (expected v1 or fast)", task->name, proto);
    cm_clustering_data *data = NULL;
    int rc = cm_clustering_data_load(&data, ctx->data_folder, task->subset, task->split,
                                     task->settings.clustering.text_field, task->settings.clustering.label_field);
    if (rc) return cm_error_wrap(rc, "%s", task->name);
    if (!fast && data->flat)
        rc = cm_error(CM_ERR_FORMAT, "%s: %s holds one document per row; the v1 protocol needs cluster sets "
                      "(use --clustering-protocol fast)", task->name, data->path);
    else
        rc = fast ? eval_fast(task, ctx, scores, data) : eval_v1(task, ctx, scores, data);
    cm_clustering_data_free(data);
    return rc;
}
