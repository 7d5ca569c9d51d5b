/*
 * reranking.c: the Reranking evaluator (main score "map"), MTEB's
 * RerankingEvaluator (reference: tests/reference/ref_rank_reranking.py).
 *
 * Samples {query, positive, negative} (datasets/reranking_data.h; samples
 * missing positives or negatives dropped). Queries are embedded with role
 * query and the task instruction, documents with role document and no
 * instruction; scores are cosine similarities in float32, the maximum over
 * the sample's queries when the query is a list (MindSmallReranking). Per
 * sample: AP (scikit-learn semantics) and MRR@10; the result is their means:
 * "map", "mrr" (the key mteb 1.12 writes) and the same value as "mrr_at_10".
 * Samples are processed in batches so memory stays bounded on large sets.
 * Per-item data: {"kind": "mean", "ids": [sample index], "values": [AP or MRR, as the main score]}.
 * Setting "mrr_at_k" (default 10).
 */
#include "cmteb/evaluator.h"
#include "cmteb/log.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "datasets/reranking_data.h"
#include "tasks/reranking/rerank_metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_DOCS 8192 /* documents embedded per batch of samples */

int cm_eval_reranking(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores) {
    const size_t mrr_k = (size_t)task->settings.reranking.mrr_at_k; /* >= 1: checked when the task was parsed */
    int main_is_mrr =
        task->main_score && !strncmp(task->main_score, "mrr", 3); /* per-item values follow the main score */
    cm_rerank_data *data = NULL;
    CM_TRY(cm_rerank_data_load(&data, ctx->data_folder, task->subset, task->split));
    if (!ctx->quiet && data->n_dropped)
        cm_log(CM_LOG_INFO, "%s: %zu samples without positive or without negative documents dropped (as MTEB does)",
               task->name, data->n_dropped);
    size_t dim = cm_embedder_dim(ctx->embedder);
    int rc = CM_OK;
    double sum_ap = 0, sum_mrr = 0;
    cJSON *ids = NULL, *vals = NULL;
    if (ctx->items && (!(ids = cJSON_CreateArray()) || !(vals = cJSON_CreateArray()))) rc = CM_ERR_NOMEM;
    char *qlabel = cm_asprintf("%s: queries", task->name), *dlabel = cm_asprintf("%s: documents", task->name);
    if (!qlabel || !dlabel) rc = CM_ERR_NOMEM;

    for (size_t s0 = 0; s0 < data->n_samples && !rc;) {
        /* a batch of whole samples, about BATCH_DOCS documents */
        size_t s1 = s0, nq = 0, nd = 0, maxd = 0;
        while (s1 < data->n_samples && (s1 == s0 || nd < BATCH_DOCS)) {
            const cm_rerank_sample *s = &data->samples[s1++];
            nq += s->n_queries;
            nd += s->n_pos + s->n_neg;
            if (s->n_pos + s->n_neg > maxd) maxd = s->n_pos + s->n_neg;
        }
        const char **qt = cm_malloc(nq * sizeof *qt), **dt = cm_malloc(nd * sizeof *dt);
        float *qv = cm_malloc(nq * dim * sizeof *qv), *dv = cm_malloc(nd * dim * sizeof *dv);
        float *sc = cm_malloc(maxd * sizeof *sc);
        if (!qt || !dt || !qv || !dv || !sc) rc = CM_ERR_NOMEM;
        size_t iq = 0, id = 0;
        for (size_t i = s0; i < s1 && !rc; i++) {
            const cm_rerank_sample *s = &data->samples[i];
            for (size_t j = 0; j < s->n_queries; j++) qt[iq++] = s->queries[j];
            for (size_t j = 0; j < s->n_pos + s->n_neg; j++) dt[id++] = s->docs[j];
        }
        if (!rc) rc = cm_embed(ctx->embedder, qt, nq, CM_ROLE_QUERY, task->instruction, qlabel, qv);
        if (!rc) rc = cm_embed(ctx->embedder, dt, nd, CM_ROLE_DOCUMENT, NULL, dlabel, dv);
        if (!rc) {
            cm_l2_normalize_rows(qv, nq, dim);
            cm_l2_normalize_rows(dv, nd, dim);
            iq = id = 0;
            for (size_t i = s0; i < s1; i++) {
                const cm_rerank_sample *s = &data->samples[i];
                size_t n = s->n_pos + s->n_neg;
                cm_rerank_scores(qv + iq * dim, s->n_queries, dv + id * dim, n, dim, sc);
                double ap = cm_rerank_ap(sc, s->n_pos, s->n_neg);
                double mrr = cm_rerank_mrr(sc, s->n_pos, s->n_neg, mrr_k);
                if (isnan(ap)) { rc = CM_ERR_NOMEM; break; }
                sum_ap += ap;
                sum_mrr += mrr;
                if (ids) {
                    char buf[32];
                    snprintf(buf, sizeof buf, "%zu", i);
                    cJSON_AddItemToArray(ids, cJSON_CreateString(buf));
                    cJSON_AddItemToArray(vals, cJSON_CreateNumber(main_is_mrr ? mrr : ap));
                }
                iq += s->n_queries;
                id += n;
            }
        }
        free(qt);
        free(dt);
        free(qv);
        free(dv);
        free(sc);
        s0 = s1;
    }
    free(qlabel);
    free(dlabel);
    if (!rc) {
        double n = (double)data->n_samples;
        char key[32];
        snprintf(key, sizeof key, "mrr_at_%zu", mrr_k);
        cJSON_AddNumberToObject(scores, "map", sum_ap / n);
        cJSON_AddNumberToObject(scores, "mrr", sum_mrr / n);
        cJSON_AddNumberToObject(scores, key, sum_mrr / n);
        const cJSON *main = cJSON_GetObjectItemCaseSensitive(scores, task->main_score ? task->main_score : "map");
        if (!cJSON_IsNumber(main))
            rc = cm_error(CM_ERR_FORMAT, "%s: main_score '%s' is not a reranking metric (expected map or mrr)",
                          task->name, task->main_score);
        else
            cJSON_AddNumberToObject(scores, "main_score", main->valuedouble);
    }
    if (!rc && ids) {
        cJSON_AddStringToObject(ctx->items, "kind", "mean");
        cJSON_AddItemToObjectCS(ctx->items, "ids", ids);
        cJSON_AddItemToObjectCS(ctx->items, "values", vals);
        ids = vals = NULL;
    }
    cJSON_Delete(ids);
    cJSON_Delete(vals);
    cm_rerank_data_free(data);
    return rc ? cm_error_wrap(rc, "%s", task->name) : CM_OK;
}
