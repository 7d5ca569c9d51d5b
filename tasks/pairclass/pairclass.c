/*
 * pairclass.c: the PairClassification evaluator (main score cosine_ap, the
 * metric the v1 leaderboard used), MTEB's PairClassificationEvaluator as
 * tests/reference/ref_rank_pairclass.py re-implements it.
 *
 * Pairs come from datasets/pairclass_data.h. Every distinct sentence is
 * embedded once, with role query and the task instruction (MTEB encodes
 * them with the plain encode). For cosine, dot, euclidean and manhattan
 * (tasks/pairclass/pair_metrics.h) the keys are mteb >= 1.14's:
 * <fn>_accuracy, <fn>_accuracy_threshold, <fn>_f1, <fn>_f1_threshold,
 * <fn>_precision, <fn>_recall, <fn>_ap, then max_accuracy, max_f1, max_ap.
 * Per-item data when the main score is an AP: {"kind": "ap", "scores",
 * "labels"} with that function's scores (negated for distances).
 */
#include "cmteb/strmap.h"
#include "cmteb/evaluator.h"
#include "cmteb/log.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "datasets/pairclass_data.h"
#include "tasks/pairclass/pair_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Distinct texts: index of each input text among the unique ones. */
static int unique_texts(char *const *a, size_t na, char *const *b, size_t nb, const char ***uniq, size_t *nu,
                        size_t *idx) {
    size_t n = na + nb;
    cm_strmap_params mp = cm_strmap_default_params();
    mp.expected = n;
    cm_strmap *first = NULL; /* text (borrowed) -> its unique index, in order of first occurrence */
    const char **u = cm_malloc((n ? n : 1) * sizeof *u);
    if (!u || cm_strmap_init(&first, &mp)) {
        free(u);
        return CM_ERR_NOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *t = i < na ? a[i] : b[i - na];
        uint64_t v = k;
        int fresh = cm_strmap_insertn(first, t, strlen(t), &v);
        if (fresh < 0) {
            cm_strmap_free(first);
            free(u);
            return CM_ERR_NOMEM;
        }
        if (fresh) u[k++] = t;
        idx[i] = (size_t)v;
    }
    cm_strmap_free(first);
    *uniq = u;
    *nu = k;
    return CM_OK;
}

static const char *const fn_names[4] = {"cosine", "dot", "euclidean", "manhattan"};
static const int fn_higher[4] = {1, 1, 0, 0};

int cm_eval_pairclassification(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores) {
    cm_pair_data *data = NULL;
    CM_TRY(cm_pair_data_load(&data, ctx->data_folder, task->subset, task->split));
    if (!ctx->quiet && data->extra_rows)
        cm_log(CM_LOG_INFO, "%s: %s has %zu rows after the first; MTEB v1 evaluates row 0 only, and so does cmteb",
               task->name, data->path, data->extra_rows);
    size_t n = data->n, dim = cm_embedder_dim(ctx->embedder), nu = 0;
    int rc = CM_OK;
    size_t *idx = cm_malloc(2 * n * sizeof *idx);
    const char **uniq = NULL;
    float *emb = NULL, *sc[4] = {0};
    char *label = cm_asprintf("%s: sentences", task->name);
    if (!idx || !label) rc = CM_ERR_NOMEM;
    if (!rc) rc = unique_texts(data->sent1, n, data->sent2, n, &uniq, &nu, idx);
    if (!rc && !(emb = cm_malloc((nu ? nu : 1) * dim * sizeof *emb))) rc = CM_ERR_NOMEM;
    for (int f = 0; f < 4 && !rc; f++)
        if (!(sc[f] = cm_malloc(n * sizeof(float)))) rc = CM_ERR_NOMEM;
    if (!rc) rc = cm_embed(ctx->embedder, uniq, nu, CM_ROLE_QUERY, task->instruction, label, emb);
    if (!rc)
        for (size_t i = 0; i < n; i++)
            cm_pair_scores(emb + idx[i] * dim, emb + idx[n + i] * dim, 1, dim, sc[0] + i, sc[1] + i, sc[2] + i,
                           sc[3] + i);
    double max_acc = 0, max_f1 = 0, max_ap = 0;
    char key[64];
    for (int f = 0; f < 4 && !rc; f++) {
        cm_pair_metrics m;
        if ((rc = cm_pair_metrics_compute(sc[f], data->labels, n, fn_higher[f], &m))) break;
        const struct { const char *k; double v; } kv[] = {
            {"accuracy", m.accuracy}, {"accuracy_threshold", m.accuracy_threshold}, {"f1", m.f1},
            {"f1_threshold", m.f1_threshold}, {"precision", m.precision}, {"recall", m.recall}, {"ap", m.ap},
        };
        for (size_t j = 0; j < sizeof kv / sizeof kv[0]; j++) {
            snprintf(key, sizeof key, "%s_%s", fn_names[f], kv[j].k);
            if (!cJSON_AddNumberToObject(scores, key, kv[j].v)) rc = CM_ERR_NOMEM;
        }
        if (m.accuracy > max_acc) max_acc = m.accuracy;
        if (m.f1 > max_f1) max_f1 = m.f1;
        if (m.ap > max_ap) max_ap = m.ap;
    }
    if (!rc) {
        cJSON_AddNumberToObject(scores, "max_accuracy", max_acc);
        cJSON_AddNumberToObject(scores, "max_f1", max_f1);
        cJSON_AddNumberToObject(scores, "max_ap", max_ap);
        const char *main_key = task->main_score ? task->main_score : "cosine_ap";
        const cJSON *main = cJSON_GetObjectItemCaseSensitive(scores, main_key);
        if (!cJSON_IsNumber(main))
            rc = cm_error(CM_ERR_FORMAT, "%s: main_score '%s' is not a pair-classification metric "
                          "(expected e.g. cosine_ap or max_ap)", task->name, main_key);
        else
            cJSON_AddNumberToObject(scores, "main_score", main->valuedouble);
        for (int f = 0; f < 4 && !rc && ctx->items; f++) {
            snprintf(key, sizeof key, "%s_ap", fn_names[f]);
            if (strcmp(key, main_key)) continue;
            cJSON *s = cJSON_CreateArray(), *l = cJSON_CreateArray();
            for (size_t i = 0; s && l && i < n; i++) {
                cJSON_AddItemToArray(s, cJSON_CreateNumber(fn_higher[f] ? sc[f][i] : -(double)sc[f][i]));
                cJSON_AddItemToArray(l, cJSON_CreateNumber(data->labels[i]));
            }
            cJSON_AddStringToObject(ctx->items, "kind", "ap");
            cJSON_AddItemToObjectCS(ctx->items, "scores", s);
            cJSON_AddItemToObjectCS(ctx->items, "labels", l);
        }
    }
    for (int f = 0; f < 4; f++) free(sc[f]);
    free(emb);
    free(uniq);
    free(idx);
    free(label);
    cm_pair_data_free(data);
    return rc ? cm_error_wrap(rc, "%s", task->name) : CM_OK;
}
