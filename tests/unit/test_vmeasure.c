/*
 * test_vmeasure.c: tasks/clustering/vmeasure.c against scikit-learn's
 * homogeneity_completeness_v_measure (tests/reference/ref_learn_cluster.py
 * -> tests/fixtures/learning/cluster.json) to 1e-9, including degenerate
 * labelings: one cluster, one class, all singletons, renamed clusters,
 * non-dense and negative labels, and empty input.
 */
#include "check.h"
#include "cmteb/util.h"
#include "tasks/clustering/vmeasure.h"

#include <cjson/cJSON.h>
#include <math.h>

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static int *ints(const cJSON *a, size_t *n) {
    *n = (size_t)cJSON_GetArraySize(a);
    int *v = malloc((*n ? *n : 1) * sizeof *v);
    for (size_t i = 0; i < *n; i++) v[i] = cJSON_GetArrayItem(a, (int)i)->valueint;
    return v;
}

int main(void) {
    char *path = cm_path_join(check_env("CMTEB_SRC"), "tests/fixtures/learning/cluster.json"), *text = NULL;
    if (cm_read_file(path, &text, NULL)) SKIP("fixture tests/fixtures/learning/cluster.json not found");
    cJSON *doc = cJSON_Parse(text);
    CHECK(doc != NULL);
    const cJSON *c;
    int i = 0;
    cJSON_ArrayForEach(c, get(doc, "v_measure")) {
        size_t n, m;
        int *t = ints(get(c, "true"), &n), *p = ints(get(c, "pred"), &m);
        double v, h, cc;
        CHECK_OK(cm_v_measure(t, p, n, &v, &h, &cc));
        printf("case %d n=%zu: v %.12f (sklearn %.12f)\n", i++, n, v, get(c, "v")->valuedouble);
        CHECK_NEAR(h, get(c, "h")->valuedouble, 1e-9);
        CHECK_NEAR(cc, get(c, "c")->valuedouble, 1e-9);
        CHECK_NEAR(v, get(c, "v")->valuedouble, 1e-9);
        free(t);
        free(p);
    }
    CHECK(i >= 10);
    /* h and c may be omitted */
    int a[3] = {0, 1, 1}, b[3] = {0, 0, 1};
    double v;
    CHECK_OK(cm_v_measure(a, b, 3, &v, NULL, NULL));
    CHECK(v > 0 && v < 1);
    /* dense ids and the contingency cells come from counting when the labels span few values and from sorting
     * otherwise: spreading the same labels apart (same order) must give the same bits */
    {
        const size_t n = 5000;
        int *t = malloc(n * sizeof *t), *p = malloc(n * sizeof *p), *t2 = malloc(n * sizeof *t2),
            *p2 = malloc(n * sizeof *p2);
        unsigned s = 12345;
        for (size_t j = 0; j < n; j++) {
            s = s * 1103515245u + 12345u;
            t[j] = (int)((s >> 16) % 30);
            p[j] = (t[j] + (int)((s >> 8) % 3)) % 25;   /* related to t, not equal */
            t2[j] = t[j] * 1000003 - 7;
            p2[j] = p[j] * 999983 + 11;
        }
        double v1, h1, c1, v2, h2, c2;
        CHECK_OK(cm_v_measure(t, p, n, &v1, &h1, &c1));
        CHECK_OK(cm_v_measure(t2, p2, n, &v2, &h2, &c2));
        printf("spread labels: v %.17g vs %.17g\n", v1, v2);
        CHECK(v1 == v2 && h1 == h2 && c1 == c2);
        CHECK(v1 > 0.1 && v1 < 0.99);
        /* many cells (every class a singleton: the cell keys are sorted): c = 1, h = 1 - H(C|K) / H(C) */
        for (size_t j = 0; j < n; j++) { t[j] = (int)j; p[j] = (int)(j % 97); }
        CHECK_OK(cm_v_measure(t, p, n, &v1, &h1, &c1));
        double hck = 0.0;
        for (size_t q = 0; q < 97; q++) {
            const double nk = (double)((n - q + 96) / 97);
            hck += nk / (double)n * log(nk);
        }
        const double he = 1.0 - hck / log((double)n), ve = 2.0 * he / (he + 1.0);
        printf("singleton classes: h %.15f (expected %.15f), c %.15f, v %.15f (expected %.15f)\n", h1, he, c1, v1, ve);
        CHECK_NEAR(h1, he, 1e-12);
        CHECK_NEAR(c1, 1.0, 1e-12);
        CHECK_NEAR(v1, ve, 1e-12);
        free(t); free(p); free(t2); free(p2);
    }
    cJSON_Delete(doc);
    free(text);
    free(path);
    return check_report();
}
