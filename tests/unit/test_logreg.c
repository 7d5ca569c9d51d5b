/*
 * test_logreg.c: tasks/classification/logreg.c and clf_metrics.c against
 * scikit-learn's LogisticRegression(max_iter=100) and its metrics
 * (tests/reference/ref_learn_logreg.py -> tests/fixtures/learning/logreg.json):
 * the same iteration count, coefficients and intercepts within 1e-3 (where
 * scikit-learn converged), identical test predictions and identical
 * accuracy / macro F1 / weighted F1 / hard-label AP.
 */
#include "check.h"
#include "cmteb/util.h"
#include "tasks/classification/clf_metrics.h"
#include "tasks/classification/logreg.h"

#include <cblas.h>
#include <cjson/cJSON.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* {"rows", "cols", "data": "v v v ..."} -> a new float32 matrix. */
static float *read_mat(const cJSON *m, size_t *rows, size_t *cols) {
    *rows = (size_t)get(m, "rows")->valueint;
    *cols = (size_t)get(m, "cols")->valueint;
    float *a = malloc(*rows * *cols * sizeof *a);
    const char *p = get(m, "data")->valuestring;
    for (size_t i = 0; i < *rows * *cols; i++) {
        char *end;
        a[i] = strtof(p, &end);
        p = end;
    }
    return a;
}

static int *read_ints(const cJSON *arr, int *max_plus_one) {
    int n = cJSON_GetArraySize(arr), *v = malloc((size_t)n * sizeof *v);
    *max_plus_one = 0;
    for (int i = 0; i < n; i++) {
        v[i] = cJSON_GetArrayItem(arr, i)->valueint;
        if (v[i] + 1 > *max_plus_one) *max_plus_one = v[i] + 1;
    }
    return v;
}

int main(void) {
    char *path = cm_path_join(check_env("CMTEB_SRC"), "tests/fixtures/learning/logreg.json"), *text = NULL;
    if (cm_read_file(path, &text, NULL)) SKIP("fixture tests/fixtures/learning/logreg.json not found");
    cJSON *doc = cJSON_Parse(text);
    CHECK(doc != NULL);
    const cJSON *c;
    cJSON_ArrayForEach(c, get(doc, "cases")) {
        size_t n, d, nt, dt;
        float *X = read_mat(get(c, "X"), &n, &d), *Xt = read_mat(get(c, "Xt"), &nt, &dt);
        int K, Kt;
        int *y = read_ints(get(c, "y"), &K), *yt = read_ints(get(c, "yt"), &Kt);
        cm_logreg_params p = cm_logreg_default_params();
        p.C = get(c, "C")->valuedouble;
        cm_logreg *m = NULL;
        CHECK_OK(cm_logreg_fit(&m, X, n, d, y, K, &p));
        if (!m) continue;
        int sk_iter = get(c, "n_iter")->valueint;
        const cJSON *coef = get(c, "coef"), *icpt = get(c, "intercept");
        double maxdiff = 0.0;
        for (int r = 0; r < m->n_rows; r++) {
            for (size_t j = 0; j < d; j++) {
                double want = cJSON_GetArrayItem(cJSON_GetArrayItem(coef, r), (int)j)->valuedouble;
                maxdiff = fmax(maxdiff, fabs(m->coef[(size_t)r * d + j] - want));
            }
            maxdiff = fmax(maxdiff, fabs(m->intercept[r] - cJSON_GetArrayItem(icpt, r)->valuedouble));
        }
        printf("%-18s n=%zu d=%zu K=%d: n_iter %d (sklearn %d), max |coef diff| %.3g\n", get(c, "name")->valuestring,
               n, d, K, m->n_iter, sk_iter, maxdiff);
        CHECK(m->n_rows == (K == 2 ? 1 : K));
        CHECK(m->n_iter == sk_iter);
        if (sk_iter < 100) CHECK(maxdiff <= 1e-3);
        int *pred = malloc(nt * sizeof *pred);
        CHECK_OK(cm_logreg_predict(m, Xt, nt, pred));
        const cJSON *want_pred = get(c, "pred");
        int same = 1;
        for (size_t i = 0; i < nt; i++) same &= pred[i] == cJSON_GetArrayItem(want_pred, (int)i)->valueint;
        CHECK(same);
        cm_clf_scores s;
        int L = K > Kt ? K : Kt;
        CHECK_OK(cm_clf_scores_compute(yt, pred, nt, L, K == 2 ? 1 : -1, &s));
        CHECK_NEAR(s.accuracy, get(c, "accuracy")->valuedouble, 1e-12);
        CHECK_NEAR(s.f1, get(c, "f1")->valuedouble, 1e-12);
        CHECK_NEAR(s.f1_weighted, get(c, "f1_weighted")->valuedouble, 1e-12);
        if (get(c, "ap")) CHECK_NEAR(s.ap, get(c, "ap")->valuedouble, 1e-12);
        free(pred);
        /* the same fit, bit for bit, with OpenBLAS on 1 and on 4 threads */
        int saved = openblas_get_num_threads();
        cm_logreg *m1 = NULL, *m4 = NULL;
        openblas_set_num_threads(1);
        CHECK_OK(cm_logreg_fit(&m1, X, n, d, y, K, &p));
        openblas_set_num_threads(4);
        CHECK_OK(cm_logreg_fit(&m4, X, n, d, y, K, &p));
        openblas_set_num_threads(saved);
        if (m1 && m4) {
            CHECK(m1->n_iter == m4->n_iter);
            CHECK(memcmp(m1->coef, m4->coef, (size_t)m1->n_rows * d * sizeof *m1->coef) == 0);
            CHECK(memcmp(m1->intercept, m4->intercept, (size_t)m1->n_rows * sizeof *m1->intercept) == 0);
        }
        cm_logreg_free(m1);
        cm_logreg_free(m4);
        cm_logreg_free(m);
        free(X); free(Xt); free(y); free(yt);
    }
    /* Refusals with a message. */
    float X1[4] = {0, 1, 2, 3};
    int y1[4] = {0, 0, 0, 0};
    cm_logreg *m = NULL;
    CHECK(cm_logreg_fit(&m, X1, 4, 1, y1, 1, NULL) == CM_ERR_ARG && m == NULL);
    int y2[4] = {0, 2, 0, 2};
    CHECK(cm_logreg_fit(&m, X1, 4, 1, y2, 3, NULL) == CM_ERR_ARG);   /* class 1 absent */
    cm_logreg_free(NULL);
    /* F1 corner cases by hand: a label only predicted, never true, counts with F1 0. */
    int t[4] = {0, 0, 1, 1}, pr[4] = {0, 2, 1, 1};
    cm_clf_scores s;
    CHECK_OK(cm_clf_scores_compute(t, pr, 4, 3, -1, &s));
    CHECK_NEAR(s.accuracy, 0.75, 1e-15);
    CHECK_NEAR(s.f1, (2.0 / 3.0 + 1.0 + 0.0) / 3.0, 1e-15);      /* sklearn: 0.5555... */
    CHECK_NEAR(s.f1_weighted, (2.0 / 3.0 * 2 + 1.0 * 2) / 4.0, 1e-15);
    cJSON_Delete(doc);
    free(text);
    free(path);
    return check_report();
}
