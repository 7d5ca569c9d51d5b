/*
 * test_sts_metrics.c: the STS similarities and correlations against scipy
 * and scikit-learn (fixtures by tests/reference/ref_sts.py).
 *
 * Tolerances: Spearman 1e-9; Pearson of similarities 1e-6, because
 * scikit-learn computes paired distances in float32 for float32 inputs
 * while cmteb computes them in double (measured difference ~2e-8);
 * correlations of given values 1e-12; p-values 1e-9 relative; betainc 1e-12.
 */
#include "check.h"
#include "cmteb/util.h"
#include "tasks/metrics/metrics.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

void cm_sts_similarities(const float *a, const float *b, size_t n, size_t d, double *cos, double *man, double *euc);

static cJSON *load(const char *name) {
    char *path = cm_asprintf("%s/tests/fixtures/sts/%s", check_env("CMTEB_SRC"), name), *text = NULL;
    if (cm_read_file(path, &text, NULL)) { fprintf(stderr, "%s\n", cm_last_error()); exit(1); }
    cJSON *o = cJSON_Parse(text);
    free(text);
    free(path);
    return o;
}

static double *doubles(const cJSON *arr, size_t *n) {
    *n = (size_t)cJSON_GetArraySize(arr);
    double *v = malloc(*n * sizeof *v + 1);
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) v[i++] = it->valuedouble;
    return v;
}

static double num(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k)->valuedouble; }

static void test_sts_cases(void) {
    cJSON *root = load("sts_metrics.json");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "cases")) {
        size_t n = (size_t)num(c, "n"), d = (size_t)num(c, "d"), k;
        float *a = malloc(n * d * sizeof *a), *b = malloc(n * d * sizeof *b);
        const cJSON *ra = cJSON_GetObjectItemCaseSensitive(c, "a")->child, *rb = cJSON_GetObjectItemCaseSensitive(c, "b")->child;
        for (size_t i = 0; i < n; i++, ra = ra->next, rb = rb->next) {
            size_t j = 0;
            for (const cJSON *x = ra->child; x; x = x->next) a[i * d + j++] = (float)x->valuedouble;
            j = 0;
            for (const cJSON *x = rb->child; x; x = x->next) b[i * d + j++] = (float)x->valuedouble;
        }
        double *gold = doubles(cJSON_GetObjectItemCaseSensitive(c, "gold"), &k);
        CHECK(k == n);
        double lo = num(c, "min_score"), hi = num(c, "max_score");
        for (size_t i = 0; i < n; i++) gold[i] = (gold[i] - lo) / (hi - lo);
        double *sim = malloc(3 * n * sizeof *sim);
        cm_sts_similarities(a, b, n, d, sim, sim + n, sim + 2 * n);
        static const char *const names[3] = {"cosine", "manhattan", "euclidean"};
        for (int m = 0; m < 3; m++) {
            char key[64];
            snprintf(key, sizeof key, "%s_pearson", names[m]);
            CHECK_NEAR(cm_pearson(sim + m * n, gold, n, NULL), num(c, key), 1e-6);
            snprintf(key, sizeof key, "%s_spearman", names[m]);
            CHECK_NEAR(cm_spearman(sim + m * n, gold, n, NULL), num(c, key), 1e-9);
        }
        free(a); free(b); free(gold); free(sim);
    }
    cJSON_Delete(root);
}

static void test_correlation(void) {
    cJSON *root = load("correlation.json");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "correlation")) {
        size_t n, m;
        double *x = doubles(cJSON_GetObjectItemCaseSensitive(c, "x"), &n);
        double *y = doubles(cJSON_GetObjectItemCaseSensitive(c, "y"), &m);
        double *rx = doubles(cJSON_GetObjectItemCaseSensitive(c, "ranks_x"), &m);
        double *ranks = malloc(n * sizeof *ranks);
        cm_rankdata(x, n, ranks);
        int same = 1;
        for (size_t i = 0; i < n; i++) same &= ranks[i] == rx[i];
        CHECK(same);
        double pp, sp;
        double p = cm_pearson(x, y, n, &pp), s = cm_spearman(x, y, n, &sp);
        CHECK_NEAR(p, num(c, "pearson"), 1e-12);
        CHECK_NEAR(s, num(c, "spearman"), 1e-12);
        CHECK_NEAR(pp, num(c, "pearson_p"), 1e-9 * (num(c, "pearson_p") + 1e-300) + 1e-15);
        CHECK_NEAR(sp, num(c, "spearman_p"), 1e-9 * (num(c, "spearman_p") + 1e-300) + 1e-15);
        free(x); free(y); free(rx); free(ranks);
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "betainc"))
        CHECK_NEAR(cm_betainc(num(c, "a"), num(c, "b"), num(c, "x")), num(c, "value"), 1e-12);
    cJSON_Delete(root);
    /* a constant input has no correlation, as scipy says (NaN) */
    double k[4] = {1, 1, 1, 1}, v[4] = {1, 2, 3, 4};
    CHECK(isnan(cm_pearson(k, v, 4, NULL)));
    CHECK(isnan(cm_spearman(k, v, 4, NULL)));
}

int main(void) {
    test_sts_cases();
    test_correlation();
    return check_report();
}
