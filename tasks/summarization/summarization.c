/*
 * summarization.c: the Summarization evaluator (SummEval; main score
 * cosine_spearman), MTEB's SummarizationEvaluator as
 * tests/reference/ref_rank_summarization.py re-implements it.
 *
 * Human and machine summaries are embedded (role query with the task
 * instruction: MTEB encodes them with the plain encode); per text
 * tasks/summarization/summ_metrics.h gives Spearman and Pearson of the
 * (normalised) human relevance against the max-cosine and max-dot
 * predictions; texts with constant scores are skipped.
 *
 * MTEB v1 averaged (statistic, p-value) tuples with np.mean, so its number
 * is (mean statistic + mean p-value) / 2 (mteb issue 1156). With the setting
 * "v1_pvalue_bug": true (the catalog's SummEval) the keys cosine_spearman,
 * cosine_pearson, dot_spearman, dot_pearson hold that value, as the v1
 * leaderboard shows it, and the plain means go under *_corrected; without
 * it the keys hold the plain means. Settings "min_score"/"max_score"
 * (default 0 and 5) normalise the gold scores as MTEB does (a linear map).
 * Per-item data: {"kind": "mean", "ids": [text id], "values": [per-text main
 * value]} over the texts not skipped.
 */
#include "cmteb/evaluator.h"
#include "cmteb/log.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "datasets/summarization_data.h"
#include "tasks/summarization/summ_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const keys[CM_SUMM_N] = {"cosine_spearman", "cosine_pearson", "dot_spearman", "dot_pearson"};

int cm_eval_summarization(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores) {
    /* min_score < max_score: checked when the task was parsed */
    const double lo = task->settings.summarization.min_score, hi = task->settings.summarization.max_score;
    const int bug = task->settings.summarization.v1_pvalue_bug;
    cm_summ_data *data = NULL;
    CM_TRY(cm_summ_data_load(&data, ctx->data_folder, task->subset, task->split));
    size_t dim = cm_embedder_dim(ctx->embedder), nh = 0, nm = 0, maxm = 0;
    for (size_t i = 0; i < data->n; i++) {
        nh += data->items[i].n_human;
        nm += data->items[i].n_machine;
        if (data->items[i].n_machine > maxm) maxm = data->items[i].n_machine;
    }
    int rc = CM_OK;
    const char **ht = cm_malloc((nh ? nh : 1) * sizeof *ht), **mt = cm_malloc((nm ? nm : 1) * sizeof *mt);
    float *hv = cm_malloc((nh ? nh : 1) * dim * sizeof *hv), *mv = cm_malloc((nm ? nm : 1) * dim * sizeof *mv);
    double *gold = cm_malloc((maxm ? maxm : 1) * sizeof *gold);
    char *hl = cm_asprintf("%s: human summaries", task->name), *ml = cm_asprintf("%s: machine summaries", task->name);
    cJSON *ids = NULL, *vals = NULL;
    if (!ht || !mt || !hv || !mv || !gold || !hl || !ml) rc = CM_ERR_NOMEM;
    if (!rc && ctx->items && (!(ids = cJSON_CreateArray()) || !(vals = cJSON_CreateArray()))) rc = CM_ERR_NOMEM;
    size_t ih = 0, im = 0;
    for (size_t i = 0; i < data->n && !rc; i++) {
        for (size_t j = 0; j < data->items[i].n_human; j++) ht[ih++] = data->items[i].human[j];
        for (size_t j = 0; j < data->items[i].n_machine; j++) mt[im++] = data->items[i].machine[j];
    }
    if (!rc) rc = cm_embed(ctx->embedder, ht, nh, CM_ROLE_QUERY, task->instruction, hl, hv);
    if (!rc) rc = cm_embed(ctx->embedder, mt, nm, CM_ROLE_QUERY, task->instruction, ml, mv);
    double sum_stat[CM_SUMM_N] = {0}, sum_p[CM_SUMM_N] = {0};
    size_t used = 0, skipped = 0;
    ih = im = 0;
    for (size_t i = 0; i < data->n && !rc; i++) {
        const cm_summ_item *it = &data->items[i];
        for (size_t j = 0; j < it->n_machine; j++) gold[j] = (it->relevance[j] - lo) / (hi - lo);
        cm_summ_result r;
        rc = cm_summ_text(hv + ih * dim, it->n_human, mv + im * dim, it->n_machine, dim, gold, &r);
        ih += it->n_human;
        im += it->n_machine;
        if (rc) break;
        if (r.skipped) {
            skipped++;
            continue;
        }
        for (int k = 0; k < CM_SUMM_N; k++) {
            sum_stat[k] += r.stat[k];
            sum_p[k] += r.pvalue[k];
        }
        used++;
        if (ids) {
            double v = bug ? (r.stat[CM_SUMM_COS_SPEARMAN] + r.pvalue[CM_SUMM_COS_SPEARMAN]) / 2
                           : r.stat[CM_SUMM_COS_SPEARMAN];
            for (int k = 0; k < CM_SUMM_N; k++) /* follow the main score if it is another key */
                if (task->main_score && !strcmp(task->main_score, keys[k]))
                    v = bug ? (r.stat[k] + r.pvalue[k]) / 2 : r.stat[k];
            cJSON_AddItemToArray(ids, cJSON_CreateString(it->id));
            cJSON_AddItemToArray(vals, cJSON_CreateNumber(v));
        }
    }
    if (!rc && used == 0)
        rc = cm_error(CM_ERR_FORMAT, "%s: every text has constant human scores or predictions; nothing to correlate",
                      task->name);
    if (!rc) {
        if (!ctx->quiet && skipped)
            cm_log(CM_LOG_INFO, "%s: %zu of %zu texts skipped (constant human scores or predictions), as MTEB does",
                   task->name, skipped, data->n);
        char key[64];
        for (int k = 0; k < CM_SUMM_N; k++) {
            double mean = sum_stat[k] / (double)used, mean_p = sum_p[k] / (double)used;
            cJSON_AddNumberToObject(scores, keys[k], bug ? (mean + mean_p) / 2 : mean);
            if (bug) {
                snprintf(key, sizeof key, "%s_corrected", keys[k]);
                cJSON_AddNumberToObject(scores, key, mean);
            }
        }
        const char *mk = task->main_score ? task->main_score : "cosine_spearman";
        const cJSON *main = cJSON_GetObjectItemCaseSensitive(scores, mk);
        if (!cJSON_IsNumber(main))
            rc = cm_error(CM_ERR_FORMAT, "%s: main_score '%s' is not a summarization metric (expected "
                          "cosine_spearman, cosine_pearson, dot_spearman or dot_pearson)", task->name, mk);
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
    free(ht); free(mt); free(hv); free(mv); free(gold); free(hl); free(ml);
    cm_summ_data_free(data);
    return rc ? cm_error_wrap(rc, "%s", task->name) : CM_OK;
}
