/*
 * test_npfloat.c: numpy's float32 einsum and sum, and scikit-learn's paired
 * cosine/manhattan/euclidean, reproduced bit for bit (fixture by
 * tests/reference/ref_npfloat.py, numpy 1.24.2; widths 1 to 1030, zero and
 * identical rows). Tolerance: none, values must be equal.
 */
#include "check.h"
#include "cmteb/util.h"
#include "tasks/metrics/npfloat.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void rows(const cJSON *arr, float *out, size_t d) {
    size_t i = 0;
    for (const cJSON *r = arr->child; r; r = r->next)
        for (const cJSON *x = r->child; x; x = x->next) out[i++] = (float)x->valuedouble;
    (void)d;
}

int main(void) {
    char *path = cm_asprintf("%s/tests/fixtures/sts/npfloat.json", check_env("CMTEB_SRC")), *text = NULL;
    CHECK_OK(cm_read_file(path, &text, NULL));
    cJSON *root = cJSON_Parse(text);
    free(text);
    free(path);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "cases")) {
        size_t d = (size_t)cJSON_GetObjectItemCaseSensitive(c, "d")->valuedouble, n = 6;
        float *a = malloc(n * d * sizeof *a), *b = malloc(n * d * sizeof *b), *t = malloc(4 * d * sizeof *t);
        rows(cJSON_GetObjectItemCaseSensitive(c, "a"), a, d);
        rows(cJSON_GetObjectItemCaseSensitive(c, "b"), b, d);
        const cJSON *ein = cJSON_GetObjectItemCaseSensitive(c, "einsum")->child;
        const cJSON *sum = cJSON_GetObjectItemCaseSensitive(c, "sum")->child;
        const cJSON *cs = cJSON_GetObjectItemCaseSensitive(c, "cosine")->child;
        const cJSON *mh = cJSON_GetObjectItemCaseSensitive(c, "manhattan")->child;
        const cJSON *eu = cJSON_GetObjectItemCaseSensitive(c, "euclidean")->child;
        int bad = 0;
        for (size_t i = 0; i < n; i++, ein = ein->next, sum = sum->next, cs = cs->next, mh = mh->next, eu = eu->next) {
            const float *x = a + i * d, *y = b + i * d;
            for (size_t j = 0; j < d; j++) t[j] = fabsf(x[j] - y[j]);
            float cosine, man, euc;
            cm_np_paired_f32(x, y, d, t + d, &cosine, &man, &euc);
            int ok = cm_np_dot_f32(x, y, d) == (float)ein->valuedouble && cm_np_sum_f32(t, d) == (float)sum->valuedouble &&
                     cosine == (float)cs->valuedouble && man == (float)mh->valuedouble && euc == (float)eu->valuedouble;
            if (!ok && bad++ < 3)
                fprintf(stderr, "d=%zu row %zu: dot %.9g/%.9g sum %.9g/%.9g cos %.9g/%.9g man %.9g/%.9g euc %.9g/%.9g\n", d, i,
                        cm_np_dot_f32(x, y, d), ein->valuedouble, cm_np_sum_f32(t, d), sum->valuedouble, cosine,
                        cs->valuedouble, man, mh->valuedouble, euc, eu->valuedouble);
            CHECK(ok);
        }
        free(a); free(b); free(t);
    }
    cJSON_Delete(root);
    return check_report();
}
