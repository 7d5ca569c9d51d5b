/*
 * test_reranking.c: cm_average_precision against scikit-learn on inputs with
 * many ties, the reranking per-sample metrics against MTEB's evaluator
 * written in numpy + sklearn (tests/reference/ref_rank_reranking.py ->
 * tests/fixtures/ranking/reranking_ref.json), and the evaluator end to end
 * on the demo reranking task with the hash model.
 */
#include "check.h"
#include "cmteb/embedder.h"
#include "cmteb/encoder.h"
#include "cmteb/evaluator.h"
#include "cmteb/util.h"
#include "datasets/reranking_data.h"
#include "tasks/metrics/metrics.h"
#include "tasks/reranking/rerank_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t read_floats(const cJSON *arr, float *out) {
    size_t n = 0;
    const cJSON *it, *x;
    cJSON_ArrayForEach(it, arr) {
        if (cJSON_IsNumber(it)) out[n++] = (float)it->valuedouble;
        else cJSON_ArrayForEach(x, it) out[n++] = (float)x->valuedouble;
    }
    return n;
}

static void test_fixture(const char *fixtures) {
    char *path = cm_path_join(fixtures, "reranking_ref.json");
    cJSON *fx = check_load_json(path);
    free(path);
    CHECK(fx != NULL);
    if (!fx) return;
    const cJSON *c;
    size_t n_cases = 0;
    double worst = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fx, "ap_cases")) {
        const cJSON *jl = cJSON_GetObjectItem(c, "labels"), *js = cJSON_GetObjectItem(c, "scores");
        size_t n = (size_t)cJSON_GetArraySize(jl);
        int *labels = malloc(n * sizeof *labels);
        double *scores = malloc(n * sizeof *scores);
        for (size_t i = 0; i < n; i++) {
            labels[i] = (int)cJSON_GetArrayItem(jl, (int)i)->valuedouble;
            scores[i] = cJSON_GetArrayItem(js, (int)i)->valuedouble;
        }
        double ap = cm_average_precision(labels, scores, n);
        double d = fabs(ap - cJSON_GetObjectItem(c, "ap")->valuedouble);
        if (d > worst) worst = d;
        CHECK_NEAR(ap, cJSON_GetObjectItem(c, "ap")->valuedouble, 1e-12);
        free(labels);
        free(scores);
        n_cases++;
    }
    printf("AP vs sklearn: %zu cases, max |diff| %.3g\n", n_cases, worst);
    CHECK(n_cases >= 60);
    /* No positive: 0 (sklearn warns and gives -0.0). */
    int none[3] = {0, 0, 0};
    double sc[3] = {0.1, 0.2, 0.3};
    CHECK(cm_average_precision(none, sc, 3) == 0.0);

    size_t dim = (size_t)cJSON_GetObjectItem(fx, "dim")->valuedouble;
    double sum_ap = 0, sum_mrr = 0, worst_score = 0;
    size_t ns = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fx, "samples")) {
        size_t np = (size_t)cJSON_GetObjectItem(c, "n_pos")->valuedouble;
        size_t nn = (size_t)cJSON_GetObjectItem(c, "n_neg")->valuedouble;
        size_t nq = (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(c, "queries"));
        float *q = malloc(nq * dim * sizeof *q), *d = malloc((np + nn) * dim * sizeof *d);
        float *want = malloc((np + nn) * sizeof *want), *got = malloc((np + nn) * sizeof *got);
        read_floats(cJSON_GetObjectItem(c, "queries"), q);
        read_floats(cJSON_GetObjectItem(c, "docs"), d);
        read_floats(cJSON_GetObjectItem(c, "scores"), want);
        cm_l2_normalize_rows(q, nq, dim);
        cm_l2_normalize_rows(d, np + nn, dim);
        cm_rerank_scores(q, nq, d, np + nn, dim, got);
        for (size_t i = 0; i < np + nn; i++)
            if (fabs(got[i] - want[i]) > worst_score) worst_score = fabs(got[i] - want[i]);
        /* AP and MRR from the reference's own float32 scores must match exactly;
         * from ours they match too unless a 1-ulp difference breaks a tie. */
        CHECK_NEAR(cm_rerank_ap(want, np, nn), cJSON_GetObjectItem(c, "ap")->valuedouble, 1e-12);
        CHECK_NEAR(cm_rerank_mrr(want, np, nn, 10), cJSON_GetObjectItem(c, "mrr")->valuedouble, 1e-12);
        double ap = cm_rerank_ap(got, np, nn), mrr = cm_rerank_mrr(got, np, nn, 10);
        CHECK_NEAR(ap, cJSON_GetObjectItem(c, "ap")->valuedouble, 1e-9);
        CHECK_NEAR(mrr, cJSON_GetObjectItem(c, "mrr")->valuedouble, 1e-12);
        sum_ap += ap;
        sum_mrr += mrr;
        ns++;
        free(q); free(d); free(want); free(got);
    }
    printf("reranking samples: %zu, max |score diff| %.3g, map %.9f, mrr %.9f\n", ns, worst_score, sum_ap / ns,
           sum_mrr / ns);
    CHECK(worst_score < 1e-6);
    CHECK_NEAR(sum_ap / ns, cJSON_GetObjectItem(fx, "map")->valuedouble, 1e-9);
    CHECK_NEAR(sum_mrr / ns, cJSON_GetObjectItem(fx, "mrr")->valuedouble, 1e-9);
    cJSON_Delete(fx);
}

static void test_mrr_edges(void) {
    float s[] = {0.5f, 0.9f, 0.9f, 0.1f}; /* 1 positive (index 0) behind two negatives */
    CHECK_NEAR(cm_rerank_mrr(s, 1, 3, 10), 1.0 / 3.0, 1e-15);
    CHECK_NEAR(cm_rerank_mrr(s, 1, 3, 2), 0.0, 1e-15);
    float t[] = {0.9f, 0.9f, 0.9f}; /* ties keep input order: the positive is first */
    CHECK_NEAR(cm_rerank_mrr(t, 1, 2, 10), 1.0, 1e-15);
}

static void test_evaluator(void) {
    const char *src = check_env("CMTEB_SRC");
    char *dir = cm_asprintf("%s/datasets/demo/reranking", src);
    cm_rerank_data *d = NULL;
    CHECK_OK(cm_rerank_data_load(&d, dir, NULL, "test"));
    if (d) {
        CHECK(d->n_samples == 5 && d->n_dropped == 1);
        CHECK(d->samples[3].n_queries == 3 && d->samples[3].n_pos == 2 && d->samples[3].n_neg == 4);
    }
    cm_rerank_data_free(d);

    cJSON *tj = cJSON_Parse("{\"name\":\"DemoReranking\",\"type\":\"Reranking\",\"data\":\"x\","
                            "\"instruction\":\"Retrieve relevant passages\"}");
    cm_task *task = NULL;
    CHECK_OK(cm_task_from_json(&task, tj, NULL, "test"));
    cJSON_Delete(tj);
    cm_encoder *enc = NULL;
    cm_embedder *emb = NULL;
    CHECK_OK(cm_encoder_init(&enc, "hash", NULL));
    cm_embedder_params ep = cm_embedder_default_params();
    ep.quiet = 1;
    CHECK_OK(cm_embedder_init(&emb, enc, &ep));
    cJSON *scores = cJSON_CreateObject(), *items = cJSON_CreateObject();
    cm_eval_ctx ctx = {emb, dir, 0, 1, NULL, items};
    CHECK_OK(cm_eval_reranking(task, &ctx, scores));
    const cJSON *map = cJSON_GetObjectItem(scores, "map"), *mrr = cJSON_GetObjectItem(scores, "mrr");
    CHECK(cJSON_IsNumber(map) && cJSON_IsNumber(mrr));
    if (cJSON_IsNumber(map) && cJSON_IsNumber(mrr)) {
        printf("DemoReranking with hash: map %.5f, mrr %.5f\n", map->valuedouble, mrr->valuedouble);
        /* lexical distractors (negatives sharing the query's words) keep the hash baseline well below 1 */
        CHECK(map->valuedouble > 0.2 && map->valuedouble < 1.0);
        CHECK(cJSON_GetObjectItem(scores, "main_score")->valuedouble == map->valuedouble);
        CHECK(cJSON_GetObjectItem(scores, "mrr_at_10")->valuedouble == mrr->valuedouble);
        const cJSON *vals = cJSON_GetObjectItem(items, "values");
        CHECK(cJSON_GetArraySize(vals) == 5);
        double s = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, vals) s += v->valuedouble;
        CHECK_NEAR(s / 5, map->valuedouble, 1e-12);
    }
    cJSON_Delete(scores);
    cJSON_Delete(items);

    /* A malformed record is an error naming file, line and field. */
    const char *tmp = check_env("CMTEB_TMP");
    if (*tmp) {
        char *bad = cm_path_join(tmp, "rerank_bad");
        cm_mkdir_p(bad);
        char *f = cm_path_join(bad, "test.jsonl");
        const char *txt = "{\"query\":\"a\",\"positive\":[\"b\"],\"negative\":[\"c\"]}\n"
                          "{\"query\":\"a\",\"positive\":\"b\",\"negative\":[\"c\"]}\n";
        cm_write_file_atomic(f, txt, strlen(txt));
        CHECK(cm_rerank_data_load(&d, bad, NULL, "test") == CM_ERR_FORMAT);
        CHECK(strstr(cm_last_error(), "test.jsonl:2") && strstr(cm_last_error(), "positive"));
        free(f);
        free(bad);
    }
    cm_embedder_free(emb);
    cm_encoder_free(enc);
    cm_task_free(task);
    free(dir);
}

/* The evaluator end to end on the reference's vectors (precomputed backend). */
static void test_precomputed(const char *fixtures) {
    char *dir = cm_path_join(fixtures, "reranking_e2e");
    char *ep = cm_path_join(dir, "expected.json"), *data = cm_path_join(dir, "data");
    char *spec = cm_asprintf("precomputed:%s/model", dir);
    cJSON *exp = check_load_json(ep);
    CHECK(exp != NULL);
    cJSON *items = cJSON_CreateObject();
    cJSON *scores = check_run_task(cm_eval_reranking, "{\"name\":\"E2E\",\"type\":\"Reranking\",\"data\":\"x\"}",
                                   spec, data, NULL, items);
    if (exp && scores) {
        const cJSON *es = cJSON_GetObjectItem(exp, "scores");
        const cJSON *map = cJSON_GetObjectItem(scores, "map"), *mrr = cJSON_GetObjectItem(scores, "mrr");
        CHECK(map && mrr);
        if (map && mrr) {
            printf("reranking e2e (precomputed): map %.9f (reference %.9f), mrr %.9f (reference %.9f)\n",
                   map->valuedouble, cJSON_GetObjectItem(es, "map")->valuedouble, mrr->valuedouble,
                   cJSON_GetObjectItem(es, "mrr")->valuedouble);
            CHECK_NEAR(map->valuedouble, cJSON_GetObjectItem(es, "map")->valuedouble, 1e-9);
            CHECK_NEAR(mrr->valuedouble, cJSON_GetObjectItem(es, "mrr")->valuedouble, 1e-9);
        }
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(items, "values")) ==
              (int)cJSON_GetObjectItem(exp, "n_samples")->valuedouble);
    }
    cJSON_Delete(scores);
    cJSON_Delete(items);
    cJSON_Delete(exp);
    free(dir); free(ep); free(data); free(spec);
}

int main(void) {
    char *fixtures = cm_asprintf("%s/tests/fixtures/ranking", check_env("CMTEB_SRC"));
    test_fixture(fixtures);
    test_mrr_edges();
    test_evaluator();
    test_precomputed(fixtures);
    free(fixtures);
    return check_report();
}
