/*
 * classification.c: the Classification evaluator, MTEB's
 * AbsTaskClassification with logRegClassificationEvaluator (mteb 1.12):
 *
 *   1. load the train split (settings "train_split", default "train") and the
 *      eval split task->split, fields "text" / "label" (settings
 *      "text_field" / "label_field"); labels compared by value;
 *   2. "test_subsample": N caps the eval split at N rows by mteb's
 *      stratified_subsampling (seed "test_subsample_seed", default 42);
 *   3. embed the eval texts once (role query, the task instruction);
 *   4. for each of "n_experiments" (default 10): shuffle the running index
 *      permutation with RandomState(42), keep the first "samples_per_label"
 *      (default 8) rows per label, embed them, fit LogisticRegression
 *      (lbfgs, C=1, tol=1e-4, max_iter=100), predict the eval split, score
 *      accuracy, macro F1, weighted F1 and (two train labels) AP on the
 *      hard predictions;
 *   5. write the means, "scores_per_experiment" and "main_score".
 *
 * Per-item data: {"kind": "mean", "ids": [eval row], "values": [fraction of
 * experiments that classified the row correctly]}.
 */
#include "cmteb/evaluator.h"
#include "cmteb/log.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "datasets/classification_data.h"
#include "tasks/classification/clf_metrics.h"
#include "tasks/classification/logreg.h"
#include "tasks/classification/sampling.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int    n_experiments;
    size_t samples_per_label;
    size_t test_subsample;     /* 0: none */
    uint64_t subsample_seed;
    uint32_t seed;             /* undersampling RandomState seed */
    cm_logreg_params lr;
} clf_settings;

/* The typed task settings (checked when the task was parsed) as the evaluator uses them. */
static void read_settings(const cm_task *t, clf_settings *s) {
    const cm_classification_settings *c = &t->settings.classification;
    s->n_experiments = (int)c->n_experiments;
    s->samples_per_label = (size_t)c->samples_per_label;
    s->test_subsample = (size_t)c->test_subsample;
    s->subsample_seed = (uint64_t)c->test_subsample_seed;
    s->seed = (uint32_t)c->seed;
    s->lr = cm_logreg_default_params();
    s->lr.max_iter = (int)c->max_iter;
}

/* Caps the eval split with mteb's stratified_subsampling; the kept rows are
 * in the order Hugging Face's select() gives them (per-item ids are
 * positions in that order). */
static int subsample_eval(cm_clf_data *d, size_t n_keep, uint64_t seed) {
    cm_clf_split *e = &d->eval;
    size_t L = cm_label_table_count(d->labels);
    int *hf = cm_malloc(L * sizeof *hf), *order = cm_malloc(L * sizeof *order), *y = cm_malloc(e->n * sizeof *y);
    size_t *keep = cm_malloc(n_keep * sizeof *keep);
    char **texts = cm_malloc(n_keep * sizeof *texts), *taken = cm_calloc(e->n, 1);
    int *labels = cm_malloc(n_keep * sizeof *labels), rc = CM_OK;
    if (!hf || !order || !y || !keep || !texts || !taken || !labels) { rc = CM_ERR_NOMEM; goto done; }
    /* HF class_encode_column numbers the classes present by their sorted names. */
    for (size_t i = 0; i < L; i++) hf[i] = -1;
    for (size_t i = 0; i < e->n; i++) hf[e->labels[i]] = 0;
    int k = 0;
    for (size_t i = 0; i < L; i++)
        if (hf[i] == 0) order[k++] = (int)i;
    for (int a = 1; a < k; a++)    /* insertion sort by name */
        for (int b = a; b > 0 && strcmp(cm_label_table_name(d->labels, order[b]),
                                        cm_label_table_name(d->labels, order[b - 1])) < 0; b--) {
            int tmp = order[b]; order[b] = order[b - 1]; order[b - 1] = tmp;
        }
    for (int c = 0; c < k; c++) hf[order[c]] = c;
    for (size_t i = 0; i < e->n; i++) y[i] = hf[e->labels[i]];
    if ((rc = cm_stratified_subsample(y, e->n, k, n_keep, seed, keep))) {
        rc = cm_error_wrap(rc, "%s: test_subsample %zu", e->path, n_keep);
        goto done;
    }
    for (size_t i = 0; i < n_keep; i++) {
        texts[i] = e->texts[keep[i]];
        labels[i] = e->labels[keep[i]];
        taken[keep[i]] = 1;
    }
    for (size_t i = 0; i < e->n; i++)
        if (!taken[i]) free(e->texts[i]);
    free(e->texts);
    free(e->labels);
    e->texts = texts;
    e->labels = labels;
    e->n = n_keep;
    texts = NULL;
    labels = NULL;
done:
    free(hf); free(order); free(y); free(keep); free(texts); free(taken); free(labels);
    return rc;
}

int cm_eval_classification(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores) {
    clf_settings s;
    read_settings(task, &s);
    cm_clf_data_params dp = cm_clf_data_default_params();
    dp.subset = task->subset;
    dp.train_split = task->settings.classification.train_split;
    dp.eval_split = task->split;
    dp.text_field = task->settings.classification.text_field;
    dp.label_field = task->settings.classification.label_field;
    dp.train_texts = 0;   /* labels first; only the sampled rows' texts are read */
    cm_clf_data *d = NULL;
    int rc = cm_clf_data_load(&d, ctx->data_folder, &dp);
    if (rc) return cm_error_wrap(rc, "%s", task->name);

    const size_t dim = cm_embedder_dim(ctx->embedder), L = cm_label_table_count(d->labels);
    float *Xtest = NULL, *Xtrain = NULL;
    size_t *idxs = NULL, *sel = NULL, *correct = NULL, *n_sel = NULL;
    unsigned char *want = NULL;
    int *ytrain = NULL, *pred = NULL, *cls_of = NULL, *global_of = NULL, *n_cls = NULL, *fit_rc = NULL;
    const char **sel_texts = NULL;
    char *fit_err = NULL;
    double sums[4] = {0, 0, 0, 0};
    int binary = 0;
    cJSON *per_exp = NULL;
    char label[256];

    if (s.test_subsample && d->eval.n > s.test_subsample &&
        (rc = subsample_eval(d, s.test_subsample, s.subsample_seed)))
        goto done;

    const size_t ntr = d->train.n, nte = d->eval.n;
    /* at most samples_per_label rows per label are kept per experiment */
    const size_t cap = s.samples_per_label * L < ntr ? s.samples_per_label * L : ntr;
    Xtest = cm_malloc(nte * dim * sizeof *Xtest);
    Xtrain = cm_malloc((size_t)s.n_experiments * cap * dim * sizeof *Xtrain);
    idxs = cm_malloc(ntr * sizeof *idxs);
    sel = cm_malloc((size_t)s.n_experiments * cap * sizeof *sel);
    n_sel = cm_calloc((size_t)s.n_experiments, sizeof *n_sel);
    want = cm_calloc(ntr, 1);
    correct = cm_calloc(nte, sizeof *correct);
    ytrain = cm_malloc((size_t)s.n_experiments * cap * sizeof *ytrain);
    pred = cm_malloc((size_t)s.n_experiments * nte * sizeof *pred);
    cls_of = cm_malloc(L * sizeof *cls_of);
    global_of = cm_malloc((size_t)s.n_experiments * L * sizeof *global_of);
    n_cls = cm_malloc((size_t)s.n_experiments * sizeof *n_cls);
    fit_rc = cm_calloc((size_t)s.n_experiments, sizeof *fit_rc);
    fit_err = cm_malloc((size_t)s.n_experiments * 512);
    sel_texts = cm_malloc(cap * sizeof *sel_texts);
    per_exp = cJSON_CreateArray();
    if (!Xtest || !Xtrain || !idxs || !sel || !n_sel || !want || !correct || !ytrain || !pred || !cls_of ||
        !global_of || !sel_texts || !per_exp || !n_cls || !fit_rc || !fit_err) {
        rc = CM_ERR_NOMEM;
        goto done;
    }
    snprintf(label, sizeof label, "%s: %s", task->name, task->split);
    if ((rc = cm_embed(ctx->embedder, (const char *const *)d->eval.texts, nte, CM_ROLE_QUERY, task->instruction,
                       label, Xtest)))
        goto done;

    /* Every experiment's training rows (they depend on the labels only), then
     * the texts of just those rows. */
    for (size_t i = 0; i < ntr; i++) idxs[i] = i;
    for (int e = 0; e < s.n_experiments; e++) {
        size_t *se = sel + (size_t)e * cap;
        if ((rc = cm_undersample_next(idxs, ntr, d->train.labels, (int)L, s.samples_per_label, s.seed, se, &n_sel[e])))
            goto done;
        CM_ASSERT(n_sel[e] <= cap);
        for (size_t i = 0; i < n_sel[e]; i++) want[se[i]] = 1;
    }
    if ((rc = cm_clf_split_load_texts(&d->train, dp.text_field, want))) goto done;
    /* 1. every experiment's training vectors (embedder calls stay sequential, in experiment order) */
    for (int e = 0; e < s.n_experiments; e++) {
        const size_t k = n_sel[e], *se = sel + (size_t)e * cap;
        int *go = global_of + (size_t)e * L, *yt = ytrain + (size_t)e * cap;
        /* classes_: the sorted distinct labels of this training sample */
        for (size_t c = 0; c < L; c++) cls_of[c] = -1;
        for (size_t i = 0; i < k; i++) cls_of[d->train.labels[se[i]]] = 0;
        int K = 0;
        for (size_t c = 0; c < L; c++)
            if (cls_of[c] == 0) { go[K] = (int)c; cls_of[c] = K++; }
        if (K < 2) {
            rc = cm_error(CM_ERR_FORMAT, "%s: %s: the training split has a single label (%s); classification needs two",
                          task->name, d->train.path, cm_label_table_name(d->labels, d->train.labels[se[0]]));
            goto done;
        }
        n_cls[e] = K;
        for (size_t i = 0; i < k; i++) {
            sel_texts[i] = d->train.texts[se[i]];
            yt[i] = cls_of[d->train.labels[se[i]]];
        }
        snprintf(label, sizeof label, "%s: %s (experiment %d/%d)", task->name, dp.train_split,
                 e + 1, s.n_experiments);
        if ((rc = cm_embed(ctx->embedder, sel_texts, k, CM_ROLE_QUERY, task->instruction, label,
                           Xtrain + (size_t)e * cap * dim)))
            goto done;
    }
    /* 2. the fits and predictions, one experiment per thread with single-threaded BLAS: each is
     * deterministic whatever the BLAS thread count (test_logreg), so the results are the sequential ones,
     * without OpenBLAS's thread hand-off on every small dgemm */
    {
        int nt = ctx->threads > 0 ? ctx->threads : omp_get_max_threads();
        if (nt > s.n_experiments) nt = s.n_experiments;
        int blas_threads = openblas_get_num_threads();
        if (nt > 1 && blas_threads != 1) openblas_set_num_threads(1);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1)
        for (int e = 0; e < s.n_experiments; e++) {
            cm_logreg *m = NULL;
            int frc = cm_logreg_fit(&m, Xtrain + (size_t)e * cap * dim, n_sel[e], dim, ytrain + (size_t)e * cap,
                                    n_cls[e], &s.lr);
            if (frc) frc = cm_error_wrap(frc, "%s: experiment %d", task->name, e + 1);
            else frc = cm_logreg_predict(m, Xtest, nte, pred + (size_t)e * nte);
            cm_logreg_free(m);
            fit_rc[e] = frc;
            if (frc) snprintf(fit_err + (size_t)e * 512, 512, "%s", cm_last_error()); /* messages are per thread */
        }
        if (nt > 1 && blas_threads != 1) openblas_set_num_threads(blas_threads);
        for (int e = 0; e < s.n_experiments && !rc; e++)
            if (fit_rc[e]) rc = cm_error(fit_rc[e], "%s", fit_err + (size_t)e * 512);
        if (rc) goto done;
    }
    /* 3. scores in experiment order */
    for (int e = 0; e < s.n_experiments; e++) {
        int *pe = pred + (size_t)e * nte;
        const int *go = global_of + (size_t)e * L;
        binary = n_cls[e] == 2;
        for (size_t i = 0; i < nte; i++) {
            pe[i] = go[pe[i]];
            correct[i] += pe[i] == d->eval.labels[i];
        }
        cm_clf_scores sc;
        if ((rc = cm_clf_scores_compute(d->eval.labels, pe, nte, (int)L, binary ? go[1] : -1, &sc))) goto done;
        cJSON *one = cJSON_CreateObject();
        if (!one) { rc = CM_ERR_NOMEM; goto done; }
        cJSON_AddItemToArray(per_exp, one);
        cJSON_AddNumberToObject(one, "accuracy", sc.accuracy);
        cJSON_AddNumberToObject(one, "f1", sc.f1);
        cJSON_AddNumberToObject(one, "f1_weighted", sc.f1_weighted);
        if (binary) {
            cJSON_AddNumberToObject(one, "ap", sc.ap);
            cJSON_AddNumberToObject(one, "ap_weighted", sc.ap); /* binary: weighting changes nothing */
        }
        sums[0] += sc.accuracy;
        sums[1] += sc.f1;
        sums[2] += sc.f1_weighted;
        sums[3] += sc.ap;
        if (!ctx->quiet)
            cm_log(CM_LOG_DEBUG, "%s: experiment %d/%d: %zu training texts, accuracy %.4f", task->name, e + 1,
                   s.n_experiments, n_sel[e], sc.accuracy);
    }
    double ne = (double)s.n_experiments;
    cJSON_AddNumberToObject(scores, "accuracy", sums[0] / ne);
    cJSON_AddNumberToObject(scores, "f1", sums[1] / ne);
    cJSON_AddNumberToObject(scores, "f1_weighted", sums[2] / ne);
    if (binary) {
        cJSON_AddNumberToObject(scores, "ap", sums[3] / ne);
        cJSON_AddNumberToObject(scores, "ap_weighted", sums[3] / ne);
    }
    cJSON_AddItemToObjectCS(scores, "scores_per_experiment", per_exp);
    per_exp = NULL;
    const cJSON *main = cJSON_GetObjectItemCaseSensitive(scores, task->main_score);
    if (!cJSON_IsNumber(main)) {
        rc = cm_error(CM_ERR_FORMAT, "%s: main_score '%s' is not a classification score (expected accuracy, f1, "
                      "f1_weighted%s)", task->name, task->main_score, binary ? ", ap or ap_weighted" : "");
        goto done;
    }
    cJSON_AddNumberToObject(scores, "main_score", main->valuedouble);

    if (ctx->items) {
        cJSON *ids = cJSON_CreateArray(), *vals = cJSON_CreateArray();
        if (!ids || !vals) { cJSON_Delete(ids); cJSON_Delete(vals); rc = CM_ERR_NOMEM; goto done; }
        cJSON_AddStringToObject(ctx->items, "kind", "mean");
        cJSON_AddItemToObjectCS(ctx->items, "ids", ids);
        cJSON_AddItemToObjectCS(ctx->items, "values", vals);
        for (size_t i = 0; i < nte; i++) {
            char id[32];
            snprintf(id, sizeof id, "%zu", i);
            cJSON_AddItemToArray(ids, cJSON_CreateString(id));
            cJSON_AddItemToArray(vals, cJSON_CreateNumber((double)correct[i] / ne));
        }
    }
done:
    cJSON_Delete(per_exp);
    free(Xtest);
    free(Xtrain);
    free(idxs);
    free(sel);
    free(n_sel);
    free(want);
    free(correct);
    free(ytrain);
    free(pred);
    free(cls_of);
    free(global_of); free(sel_texts); free(n_cls); free(fit_rc); free(fit_err);
    cm_clf_data_free(d);
    return rc;
}
