/*
 * sts.c: the STS evaluator, as MTEB v1 (reference: tests/reference/ref_sts.py).
 *
 * sentence1 and sentence2 are embedded separately (query role, with the task
 * instruction when the model uses instructions). Gold scores are mapped to
 * [0, 1] by the task's min_score/max_score (linear: no effect on the
 * correlations). Similarities: cosine = 1 - paired cosine distance,
 * manhattan = -L1 distance, euclidean = -L2 distance, on the raw vectors.
 * Pearson and Spearman (average ranks) as scipy computes them.
 * Keys as mteb >= 1.12 writes them: cosine_pearson, cosine_spearman,
 * manhattan_*, euclidean_*, plus pearson/spearman for the model's similarity
 * (cosine) and main_score.
 */
#include "cmteb/evaluator.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "datasets/sts_data.h"
#include "tasks/metrics/metrics.h"
#include "tasks/metrics/npfloat.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Paired similarities of rows of a and b, (n, d) each, into cos/man/euc (n):
 * cosine = 1 - paired_cosine_distances, manhattan = -paired_manhattan,
 * euclidean = -paired_euclidean, computed as scikit-learn computes them for
 * float32 embeddings, bit for bit (tasks/metrics/npfloat.h), so that values
 * tie exactly where the reference's tie. */
void cm_sts_similarities(const float *a, const float *b, size_t n, size_t d, double *cos, double *man, double *euc) {
    float *scratch = cm_malloc((3 * d + 1) * sizeof *scratch);
    if (!scratch) { /* cannot happen for sane d; fall back to NaN so callers notice */
        for (size_t i = 0; i < n; i++) cos[i] = man[i] = euc[i] = NAN;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        float c, m, e;
        cm_np_paired_f32(a + i * d, b + i * d, d, scratch, &c, &m, &e);
        cos[i] = c;
        man[i] = -(double)m;
        euc[i] = -(double)e;
    }
    free(scratch);
}

int cm_eval_sts(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores) {
    const cm_sts_settings *st = &task->settings.sts;
    cm_sts_data data;
    CM_TRY(cm_sts_data_load(ctx->data_folder, task->subset, task->split, st->sentence1_field, st->sentence2_field,
                            st->score_field, &data));
    size_t n = data.n, d = cm_embedder_dim(ctx->embedder);
    float *e1 = cm_malloc(n * d * sizeof *e1), *e2 = cm_malloc(n * d * sizeof *e2);
    double *gold = cm_malloc(n * sizeof *gold), *sim = cm_malloc(3 * n * sizeof *sim);
    int rc = CM_OK;
    if (!e1 || !e2 || !gold || !sim) { rc = CM_ERR_NOMEM; goto done; }
    char label[300];
    snprintf(label, sizeof label, "%s: sentence1", task->name);
    if ((rc = cm_embed(ctx->embedder, (const char *const *)data.s1, n, CM_ROLE_QUERY, task->instruction, label, e1)))
        goto done;
    snprintf(label, sizeof label, "%s: sentence2", task->name);
    if ((rc = cm_embed(ctx->embedder, (const char *const *)data.s2, n, CM_ROLE_QUERY, task->instruction, label, e2)))
        goto done;

    double lo = st->min_score, hi = st->max_score; /* lo < hi: checked when the task was parsed */
    for (size_t i = 0; i < n; i++) gold[i] = (data.score[i] - lo) / (hi - lo);
    double *cos = sim, *man = sim + n, *euc = sim + 2 * n;
    cm_sts_similarities(e1, e2, n, d, cos, man, euc);

    static const char *const names[3] = {"cosine", "manhattan", "euclidean"};
    for (int k = 0; k < 3; k++) {
        char key[64];
        double p = cm_pearson(sim + k * n, gold, n, NULL), s = cm_spearman(sim + k * n, gold, n, NULL);
        snprintf(key, sizeof key, "%s_pearson", names[k]);
        cJSON_AddNumberToObject(scores, key, p);
        snprintf(key, sizeof key, "%s_spearman", names[k]);
        cJSON_AddNumberToObject(scores, key, s);
        if (k == 0) {
            cJSON_AddNumberToObject(scores, "pearson", p);
            cJSON_AddNumberToObject(scores, "spearman", s);
        }
    }
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(scores, task->main_score);
    if (!cJSON_IsNumber(ms)) {
        rc = cm_error(CM_ERR_ARG, "%s: main_score '%s' is not an STS metric (expected e.g. cosine_spearman)",
                      task->name, task->main_score);
        goto done;
    }
    cJSON_AddNumberToObject(scores, "main_score", ms->valuedouble);
    if (ctx->items) {
        cJSON_AddStringToObject(ctx->items, "kind", "spearman");
        cJSON_AddItemToObjectCS(ctx->items, "pred", cJSON_CreateDoubleArray(cos, (int)n));
        cJSON_AddItemToObjectCS(ctx->items, "gold", cJSON_CreateDoubleArray(gold, (int)n));
    }
done:
    free(e1);
    free(e2);
    free(gold);
    free(sim);
    cm_sts_data_free(&data);
    return rc;
}
