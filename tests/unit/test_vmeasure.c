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
    cJSON_Delete(doc);
    free(text);
    free(path);
    return check_report();
}
