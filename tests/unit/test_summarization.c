/*
 * test_summarization.c: the SummEval evaluator against MTEB v1's
 * SummarizationEvaluator written with torch + scipy
 * (tests/reference/ref_rank_summarization.py ->
 * tests/fixtures/ranking/summarization_ref.json and summarization_e2e/):
 * per-text predictions, correlations and p-values, the (rho + p) / 2 v1
 * value and the corrected means; the evaluator itself through the
 * precomputed backend; and the demo task with the hash model.
 */
#include "check.h"
#include "cmteb/embedder.h"
#include "cmteb/encoder.h"
#include "cmteb/evaluator.h"
#include "cmteb/util.h"
#include "datasets/summarization_data.h"
#include "tasks/summarization/summ_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t read_matrix(const cJSON *m, float *out) {
    size_t k = 0;
    const cJSON *row, *x;
    cJSON_ArrayForEach(row, m) cJSON_ArrayForEach(x, row) out[k++] = (float)x->valuedouble;
    return k;
}

static void test_fixture(const char *fixtures) {
    char *path = cm_path_join(fixtures, "summarization_ref.json");
    cJSON *fx = check_load_json(path);
    free(path);
    CHECK(fx != NULL);
    if (!fx) return;
    size_t dim = (size_t)cJSON_GetObjectItem(fx, "dim")->valuedouble;
    const cJSON *t;
    double stat[CM_SUMM_N] = {0}, pv[CM_SUMM_N] = {0}, worst_stat = 0, worst_p = 0;
    size_t used = 0, skipped = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(fx, "texts")) {
        size_t nh = (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(t, "human"));
        size_t nm = (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(t, "machine"));
        float *h = malloc(nh * dim * sizeof *h), *m = malloc(nm * dim * sizeof *m);
        double *gold = malloc(nm * sizeof *gold);
        read_matrix(cJSON_GetObjectItem(t, "human"), h);
        read_matrix(cJSON_GetObjectItem(t, "machine"), m);
        for (size_t i = 0; i < nm; i++)
            gold[i] = cJSON_GetArrayItem(cJSON_GetObjectItem(t, "relevance"), (int)i)->valuedouble / 5.0;
        cm_summ_result r;
        CHECK_OK(cm_summ_text(h, nh, m, nm, dim, gold, &r));
        const cJSON *e = cJSON_GetObjectItem(t, "expected");
        CHECK(r.skipped == cJSON_IsNull(e));
        if (!r.skipped && !cJSON_IsNull(e)) {
            for (int k = 0; k < CM_SUMM_N; k++) {
                double es = cJSON_GetArrayItem(cJSON_GetObjectItem(e, "stat"), k)->valuedouble;
                double ep = cJSON_GetArrayItem(cJSON_GetObjectItem(e, "pvalue"), k)->valuedouble;
                CHECK_NEAR(r.stat[k], es, 1e-6);
                CHECK_NEAR(r.pvalue[k], ep, 1e-6 * (ep > 1 ? ep : 1));
                if (fabs(r.stat[k] - es) > worst_stat) worst_stat = fabs(r.stat[k] - es);
                if (fabs(r.pvalue[k] - ep) > worst_p) worst_p = fabs(r.pvalue[k] - ep);
                stat[k] += r.stat[k];
                pv[k] += r.pvalue[k];
            }
            used++;
        }
        skipped += (size_t)r.skipped;
        free(h);
        free(m);
        free(gold);
    }
    printf("summarization fixture: %zu texts used, %zu skipped, max |stat diff| %.3g, max |p diff| %.3g\n", used,
           skipped, worst_stat, worst_p);
    CHECK(used == 10 && skipped == 2);
    const cJSON *exp = cJSON_GetObjectItem(fx, "expected");
    static const char *const keys[CM_SUMM_N] = {"cosine_spearman", "cosine_pearson", "dot_spearman", "dot_pearson"};
    for (int k = 0; k < CM_SUMM_N && used; k++) {
        char key[64];
        CHECK_NEAR((stat[k] / used + pv[k] / used) / 2, cJSON_GetObjectItem(exp, keys[k])->valuedouble, 1e-6);
        snprintf(key, sizeof key, "%s_corrected", keys[k]);
        CHECK_NEAR(stat[k] / used, cJSON_GetObjectItem(exp, key)->valuedouble, 1e-6);
    }
    cJSON_Delete(fx);
}

/* Runs the evaluator with model spec on folder; task settings as JSON text. */
static cJSON *run_eval(const char *spec, const char *folder, const char *settings, cJSON *items) {
    char *js = cm_asprintf("{\"name\":\"SummTest\",\"type\":\"Summarization\",\"data\":\"x\","
                           "\"instruction\":\"Given a news summary, retrieve other semantically similar summaries\","
                           "\"settings\":%s}", settings);
    cJSON *scores = check_run_task(cm_eval_summarization, js, spec, folder, NULL, items);
    free(js);
    return scores;
}

static void test_e2e(const char *fixtures) {
    char *dir = cm_path_join(fixtures, "summarization_e2e");
    char *data = cm_path_join(dir, "data"), *model = cm_asprintf("precomputed:%s/model", dir);
    char *ep = cm_path_join(dir, "expected.json");
    cJSON *exp = check_load_json(ep);
    CHECK(exp != NULL);
    cJSON *items = cJSON_CreateObject();
    cJSON *s = exp ? run_eval(model, data, "{\"min_score\":0,\"max_score\":5,\"v1_pvalue_bug\":true}", items) : NULL;
    if (s) {
        const cJSON *e;
        size_t n = 0;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(exp, "scores")) {
            CHECK_NEAR(cJSON_GetObjectItem(s, e->string)->valuedouble, e->valuedouble, 1e-6);
            n++;
        }
        CHECK(n == 8);
        CHECK(cJSON_GetObjectItem(s, "main_score")->valuedouble == cJSON_GetObjectItem(s, "cosine_spearman")->valuedouble);
        printf("SummEval-style e2e (precomputed): cosine_spearman %.6f (v1 bug), %.6f corrected\n",
               cJSON_GetObjectItem(s, "cosine_spearman")->valuedouble,
               cJSON_GetObjectItem(s, "cosine_spearman_corrected")->valuedouble);
        const cJSON *vals = cJSON_GetObjectItem(items, "values"), *v;
        double sum = 0;
        cJSON_ArrayForEach(v, vals) sum += v->valuedouble;
        CHECK(cJSON_GetArraySize(vals) == 10);
        CHECK_NEAR(sum / 10, cJSON_GetObjectItem(s, "main_score")->valuedouble, 1e-12);
    }
    cJSON_Delete(s);
    cJSON_Delete(items);
    /* Without the bug setting the keys hold the plain means. */
    s = exp ? run_eval(model, data, "{}", NULL) : NULL;
    if (s) {
        CHECK_NEAR(cJSON_GetObjectItem(s, "cosine_spearman")->valuedouble,
                   cJSON_GetObjectItem(cJSON_GetObjectItem(exp, "scores"), "cosine_spearman_corrected")->valuedouble, 1e-6);
        CHECK(cJSON_GetObjectItem(s, "cosine_spearman_corrected") == NULL);
    }
    cJSON_Delete(s);
    cJSON_Delete(exp);
    free(dir); free(data); free(model); free(ep);
}

static void test_demo_and_errors(void) {
    char *dir = cm_asprintf("%s/datasets/demo/summarization", check_env("CMTEB_SRC"));
    cJSON *s = run_eval("hash", dir, "{\"v1_pvalue_bug\":false}", NULL);
    if (s) {
        double v = cJSON_GetObjectItem(s, "cosine_spearman")->valuedouble;
        printf("DemoSummarization with hash: cosine_spearman %.5f, dot_pearson %.5f\n", v,
               cJSON_GetObjectItem(s, "dot_pearson")->valuedouble);
        CHECK(v > -1 && v <= 1);
    }
    cJSON_Delete(s);
    free(dir);
    const char *tmp = check_env("CMTEB_TMP");
    if (*tmp) {
        char *d = cm_path_join(tmp, "summ_bad");
        cm_mkdir_p(d);
        char *f = cm_path_join(d, "test.jsonl");
        const char *txt = "{\"human_summaries\":[\"a\"],\"machine_summaries\":[\"b\",\"c\"],\"relevance\":[1]}\n";
        cm_write_file_atomic(f, txt, strlen(txt));
        cm_summ_data *sd = NULL;
        CHECK(cm_summ_data_load(&sd, d, NULL, "test") == CM_ERR_FORMAT);
        CHECK(strstr(cm_last_error(), "test.jsonl:1") && strstr(cm_last_error(), "relevance"));
        free(f);
        free(d);
    }
}

int main(void) {
    char *fixtures = cm_asprintf("%s/tests/fixtures/ranking", check_env("CMTEB_SRC"));
    test_fixture(fixtures);
    test_e2e(fixtures);
    test_demo_and_errors();
    free(fixtures);
    return check_report();
}
