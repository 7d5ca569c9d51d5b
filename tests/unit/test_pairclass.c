/*
 * test_pairclass.c: pair-classification scores and metrics against MTEB's
 * evaluator written with sklearn (tests/reference/ref_rank_pairclass.py ->
 * tests/fixtures/ranking/pairclass_ref.json), the loader's layouts and
 * errors, and the evaluator end to end with the hash model on the demo task
 * and (when $CMTEB_SHARED/data is there) on MSRP.
 */
#include "check.h"
#include "cmteb/embedder.h"
#include "cmteb/encoder.h"
#include "cmteb/evaluator.h"
#include "cmteb/util.h"
#include "datasets/pairclass_data.h"
#include "tasks/pairclass/pair_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fns[4] = {"cosine", "dot", "euclidean", "manhattan"};
static const int higher[4] = {1, 1, 0, 0};

static void read_matrix(const cJSON *m, float *out) {
    size_t k = 0;
    const cJSON *row, *x;
    cJSON_ArrayForEach(row, m) cJSON_ArrayForEach(x, row) out[k++] = (float)x->valuedouble;
}

static double rel_diff(double a, double b) { return fabs(a - b) / (fabs(b) > 1 ? fabs(b) : 1); }

static void compare(const cm_pair_metrics *m, const cJSON *exp, const char *fn, double tol, double tol_thr,
                    const char *what) {
    const struct { const char *k; double v; double tol; } kv[] = {
        {"accuracy", m->accuracy, tol}, {"f1", m->f1, tol}, {"precision", m->precision, tol},
        {"recall", m->recall, tol}, {"ap", m->ap, tol},
        {"accuracy_threshold", m->accuracy_threshold, tol_thr}, {"f1_threshold", m->f1_threshold, tol_thr},
    };
    for (size_t j = 0; j < sizeof kv / sizeof kv[0]; j++) {
        char key[64];
        snprintf(key, sizeof key, "%s_%s", fn, kv[j].k);
        double e = cJSON_GetObjectItem(exp, key)->valuedouble;
        if (rel_diff(kv[j].v, e) > kv[j].tol) {
            fprintf(stderr, "%s: %s = %.10g, reference %.10g\n", what, key, kv[j].v, e);
            CHECK(0);
        } else {
            CHECK(1);
        }
    }
}

static void test_fixture(const char *fixtures) {
    char *path = cm_path_join(fixtures, "pairclass_ref.json");
    cJSON *fx = check_load_json(path);
    free(path);
    CHECK(fx != NULL);
    if (!fx) return;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fx, "cases")) {
        size_t n = (size_t)cJSON_GetObjectItem(c, "n")->valuedouble, dim = (size_t)cJSON_GetObjectItem(c, "dim")->valuedouble;
        float *a = malloc(n * dim * sizeof *a), *b = malloc(n * dim * sizeof *b);
        int *labels = malloc(n * sizeof *labels);
        read_matrix(cJSON_GetObjectItem(c, "a"), a);
        read_matrix(cJSON_GetObjectItem(c, "b"), b);
        for (size_t i = 0; i < n; i++) labels[i] = (int)cJSON_GetArrayItem(cJSON_GetObjectItem(c, "labels"), (int)i)->valuedouble;
        float *ours[4], *ref[4];
        for (int f = 0; f < 4; f++) {
            ours[f] = malloc(n * sizeof(float));
            ref[f] = malloc(n * sizeof(float));
            const cJSON *rs = cJSON_GetObjectItem(cJSON_GetObjectItem(c, "scores"), fns[f]);
            for (size_t i = 0; i < n; i++) ref[f][i] = (float)cJSON_GetArrayItem(rs, (int)i)->valuedouble;
        }
        cm_pair_scores(a, b, n, dim, ours[0], ours[1], ours[2], ours[3]);
        const cJSON *exp = cJSON_GetObjectItem(c, "expected");
        double worst = 0, max_ap = 0;
        char what[64];
        for (int f = 0; f < 4; f++) {
            for (size_t i = 0; i < n; i++)
                if (rel_diff(ours[f][i], ref[f][i]) > worst) worst = rel_diff(ours[f][i], ref[f][i]);
            cm_pair_metrics m;
            /* the reference's own float32 scores: everything equal, thresholds included */
            CHECK_OK(cm_pair_metrics_compute(ref[f], labels, n, higher[f], &m));
            snprintf(what, sizeof what, "n=%zu ref scores", n);
            compare(&m, exp, fns[f], 1e-12, 1e-7, what);
            /* our scores (float32 rounding may differ by an ulp): thresholds to 1e-6 */
            CHECK_OK(cm_pair_metrics_compute(ours[f], labels, n, higher[f], &m));
            snprintf(what, sizeof what, "n=%zu our scores", n);
            compare(&m, exp, fns[f], 1e-9, 1e-6, what);
            if (m.ap > max_ap) max_ap = m.ap;
        }
        CHECK_NEAR(max_ap, cJSON_GetObjectItem(exp, "max_ap")->valuedouble, 1e-9);
        printf("pairclass n=%zu: max relative score diff %.3g, cosine_ap %.9f\n", n, worst,
               cJSON_GetObjectItem(exp, "cosine_ap")->valuedouble);
        CHECK(worst < 1e-6);
        for (int f = 0; f < 4; f++) {
            free(ours[f]);
            free(ref[f]);
        }
        free(a);
        free(b);
        free(labels);
    }
    cJSON_Delete(fx);
}

static cJSON *run_eval_spec(const char *name, const char *spec, const char *dir, cJSON *items);
static cJSON *run_eval(const char *name, const char *dir, cJSON *items) { return run_eval_spec(name, "hash", dir, items); }

static cJSON *run_eval_spec(const char *name, const char *spec, const char *dir, cJSON *items) {
    char *js = cm_asprintf("{\"name\":\"%s\",\"type\":\"PairClassification\",\"data\":\"x\"}", name);
    cJSON *scores = check_run_task(cm_eval_pairclassification, js, spec, dir, NULL, items);
    free(js);
    return scores;
}

static void test_evaluator(void) {
    char *dir = cm_asprintf("%s/datasets/demo/pairclass", check_env("CMTEB_SRC"));
    cJSON *items = cJSON_CreateObject();
    cJSON *s = run_eval("DemoPairClassification", dir, items);
    if (s) {
        CHECK(cJSON_GetArraySize(s) == 4 * 7 + 3 + 1);
        double ap = cJSON_GetObjectItem(s, "cosine_ap")->valuedouble;
        printf("DemoPairClassification with hash: cosine_ap %.5f, cosine_accuracy %.5f\n", ap,
               cJSON_GetObjectItem(s, "cosine_accuracy")->valuedouble);
        CHECK(cJSON_GetObjectItem(s, "main_score")->valuedouble == ap);
        CHECK(ap > 0.6 && ap <= 1.0);
        CHECK(cJSON_GetObjectItem(s, "max_ap")->valuedouble >= ap);
        CHECK(!strcmp(cJSON_GetObjectItem(items, "kind")->valuestring, "ap"));
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(items, "scores")) == 20);
    }
    cJSON_Delete(s);
    cJSON_Delete(items);
    free(dir);

    /* Per-row layout, and errors naming file, line and field. */
    const char *tmp = check_env("CMTEB_TMP");
    if (*tmp) {
        char *d = cm_path_join(tmp, "pair_rows");
        cm_mkdir_p(d);
        char *f = cm_path_join(d, "test.jsonl");
        const char *txt = "{\"sentence1\":\"a b\",\"sentence2\":\"a b\",\"label\":1}\n"
                          "{\"sentence1\":\"a b\",\"sentence2\":\"x y\",\"label\":false}\n";
        cm_write_file_atomic(f, txt, strlen(txt));
        cm_pair_data *pd = NULL;
        CHECK_OK(cm_pair_data_load(&pd, d, NULL, "test"));
        if (pd) CHECK(pd->n == 2 && pd->labels[0] == 1 && pd->labels[1] == 0);
        cm_pair_data_free(pd);
        txt = "{\"sent1\":[\"a\",\"b\"],\"sent2\":[\"c\",\"d\"],\"labels\":[1,2]}\n";
        cm_write_file_atomic(f, txt, strlen(txt));
        CHECK(cm_pair_data_load(&pd, d, NULL, "test") == CM_ERR_FORMAT);
        CHECK(strstr(cm_last_error(), "test.jsonl:1") && strstr(cm_last_error(), "labels"));
        txt = "{\"sent1\":[\"a\",\"b\"],\"sent2\":[\"c\"],\"labels\":[1,0]}\n";
        cm_write_file_atomic(f, txt, strlen(txt));
        CHECK(cm_pair_data_load(&pd, d, NULL, "test") == CM_ERR_FORMAT);
        CHECK(strstr(cm_last_error(), "as many labels"));
        free(f);
        free(d);
    }

    const char *shared = check_env("CMTEB_SHARED");
    char *msrp = cm_asprintf("%s/data/extra/msrp", shared);
    if (*shared && cm_dir_exists(msrp)) {
        cJSON *it2 = cJSON_CreateObject();
        cJSON *m = run_eval("MSRP", msrp, it2);
        if (m) {
            printf("MSRP with hash: cosine_ap %.5f, cosine_accuracy %.5f, max_f1 %.5f\n",
                   cJSON_GetObjectItem(m, "cosine_ap")->valuedouble, cJSON_GetObjectItem(m, "cosine_accuracy")->valuedouble,
                   cJSON_GetObjectItem(m, "max_f1")->valuedouble);
            CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(it2, "labels")) == 1725);
            /* 1147 of 1725 test pairs are paraphrases: AP of a useless model ~0.665 */
            CHECK(cJSON_GetObjectItem(m, "cosine_ap")->valuedouble > 0.70);
        }
        cJSON_Delete(m);
        cJSON_Delete(it2);
    } else {
        printf("MSRP not found under $CMTEB_SHARED/data: skipped that part\n");
    }
    free(msrp);
}

/* The evaluator end to end on the reference's tied case (precomputed backend):
 * all 31 keys equal the sklearn reference (thresholds to 1e-6). */
static void test_precomputed(const char *fixtures) {
    char *dir = cm_path_join(fixtures, "pairclass_e2e");
    char *ep = cm_path_join(dir, "expected.json"), *data = cm_path_join(dir, "data");
    char *spec = cm_asprintf("precomputed:%s/model", dir);
    cJSON *exp = check_load_json(ep);
    CHECK(exp != NULL);
    cJSON *s = exp ? run_eval_spec("E2E", spec, data, NULL) : NULL;
    if (s) {
        const cJSON *e;
        size_t n = 0, bad = 0;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(exp, "scores")) {
            const cJSON *v = cJSON_GetObjectItem(s, e->string);
            double tol = strstr(e->string, "threshold") ? 1e-6 : 1e-9;
            if (!cJSON_IsNumber(v) || rel_diff(v->valuedouble, e->valuedouble) > tol) {
                bad++;
                fprintf(stderr, "pairclass e2e %s: %.10g, reference %.10g\n", e->string, v ? v->valuedouble : -1,
                        e->valuedouble);
            }
            n++;
        }
        printf("pairclass e2e (precomputed): %zu keys, %zu differ; cosine_ap %.9f\n", n, bad,
               cJSON_GetObjectItem(s, "cosine_ap")->valuedouble);
        CHECK(n == 31 && bad == 0);
    }
    cJSON_Delete(s);
    cJSON_Delete(exp);
    free(dir); free(ep); free(data); free(spec);
}

int main(void) {
    char *fixtures = cm_asprintf("%s/tests/fixtures/ranking", check_env("CMTEB_SRC"));
    test_fixture(fixtures);
    test_evaluator();
    test_precomputed(fixtures);
    free(fixtures);
    return check_report();
}
