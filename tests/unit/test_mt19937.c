/*
 * test_mt19937.c: tasks/random and tasks/classification/sampling against
 * draws recorded from numpy (RandomState, default_rng), CPython's random and
 * Hugging Face's stratified split (tests/reference/ref_learn_random.py ->
 * tests/fixtures/learning/random.json). Every draw must be identical.
 */
#include "check.h"
#include "cmteb/util.h"
#include "tasks/classification/sampling.h"
#include "tasks/random/random.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* Compares n size_t values with a JSON int array; counts one check. */
static void check_idx(const char *what, const size_t *got, size_t n, const cJSON *want) {
    int ok = cJSON_GetArraySize(want) == (int)n;
    for (size_t i = 0; ok && i < n; i++) ok = (double)got[i] == cJSON_GetArrayItem(want, (int)i)->valuedouble;
    if (!ok) fprintf(stderr, "mismatch: %s (n=%zu, want %d)\n", what, n, cJSON_GetArraySize(want));
    CHECK(ok);
}

static void test_legacy(const cJSON *cases) {
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        cm_mt19937 st;
        cm_mt_seed(&st, (uint32_t)get(c, "seed")->valuedouble);
        const cJSON *v;
        int ok = 1;
        cJSON_ArrayForEach(v, get(c, "random_sample")) ok &= cm_mt_next_double(&st) == v->valuedouble;
        CHECK(ok);
        size_t buf[512];
        struct { const char *key; int64_t hi; } ri[] = {{"randint_10", 10}, {"randint_1000", 1000}, {"randint_big", 3000000000LL}};
        for (int r = 0; r < 3; r++) {
            ok = 1;
            cJSON_ArrayForEach(v, get(c, ri[r].key)) ok &= (double)cm_rs_randint(&st, 0, ri[r].hi) == v->valuedouble;
            if (!ok) fprintf(stderr, "seed %g: %s differs\n", get(c, "seed")->valuedouble, ri[r].key);
            CHECK(ok);
        }
        ok = 1;
        cJSON_ArrayForEach(v, get(c, "uniform")) ok &= cm_rs_uniform(&st, 0.0, 1.0) == v->valuedouble;
        CHECK(ok);
        cm_rs_permutation(&st, 1, buf);
        check_idx("permutation(1)", buf, 1, get(c, "permutation_1"));
        cm_rs_permutation(&st, 17, buf);
        check_idx("permutation(17)", buf, 17, get(c, "permutation_17"));
        cm_rs_permutation(&st, 200, buf);
        check_idx("permutation(200)", buf, 200, get(c, "permutation_200"));
        size_t work[500];
        cm_rs_choice_noreplace(&st, 500, 37, work, buf);
        check_idx("choice(500, 37)", buf, 37, get(c, "choice_500_37"));
        ok = 1;
        cJSON_ArrayForEach(v, get(c, "after")) ok &= cm_mt_next_double(&st) == v->valuedouble;
        CHECK(ok);
    }
}

static void test_array_seed(const cJSON *cases) {
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        uint32_t key[8];
        size_t n = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, get(c, "key")) key[n++] = (uint32_t)v->valuedouble;
        cm_mt19937 st;
        cm_mt_seed_array(&st, key, n);
        int ok = 1;
        cJSON_ArrayForEach(v, get(c, "random_sample")) ok &= cm_mt_next_double(&st) == v->valuedouble;
        CHECK(ok);
    }
}

static void test_undersample(const cJSON *cases) {
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        const cJSON *labs = get(c, "labels");
        size_t n = (size_t)cJSON_GetArraySize(labs);
        int *labels = malloc(n * sizeof *labels), n_labels = 0;
        size_t *idxs = malloc(n * sizeof *idxs), *sel = malloc(n * sizeof *sel);
        for (size_t i = 0; i < n; i++) {
            labels[i] = cJSON_GetArrayItem(labs, (int)i)->valueint;
            if (labels[i] + 1 > n_labels) n_labels = labels[i] + 1;
            idxs[i] = i;
        }
        size_t per = (size_t)get(c, "samples_per_label")->valueint;
        const cJSON *exp;
        int e = 0;
        cJSON_ArrayForEach(exp, get(c, "selected")) {
            size_t k = 0;
            CHECK_OK(cm_undersample_next(idxs, n, labels, n_labels, per, 42, sel, &k));
            char what[64];
            snprintf(what, sizeof what, "undersample n=%zu experiment %d", n, e++);
            check_idx(what, sel, k, exp);
        }
        free(labels); free(idxs); free(sel);
    }
}

static void test_pyrandom(const cJSON *cases) {
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        cm_mt19937 st;
        cm_py_seed(&st, (uint64_t)get(c, "seed")->valuedouble);
        const cJSON *v;
        int ok = 1;
        cJSON_ArrayForEach(v, get(c, "random")) ok &= cm_mt_next_double(&st) == v->valuedouble;
        CHECK(ok);
        ok = 1;
        cJSON_ArrayForEach(v, get(c, "getrandbits"))
            ok &= (double)cm_py_getrandbits(&st, cJSON_GetArrayItem(v, 0)->valueint) == cJSON_GetArrayItem(v, 1)->valuedouble;
        CHECK(ok);
        ok = 1;
        cJSON_ArrayForEach(v, get(c, "randbelow"))
            ok &= (double)cm_py_randbelow(&st, (uint64_t)cJSON_GetArrayItem(v, 0)->valuedouble) == cJSON_GetArrayItem(v, 1)->valuedouble;
        CHECK(ok);
        cJSON_ArrayForEach(v, get(c, "sample")) {
            size_t n = (size_t)get(v, "n")->valuedouble, k = (size_t)get(v, "k")->valuedouble;
            size_t *out = malloc((k + 1) * sizeof *out);
            CHECK_OK(cm_py_sample(&st, n, k, out));
            char what[64];
            snprintf(what, sizeof what, "sample(range(%zu), %zu)", n, k);
            check_idx(what, out, k, get(v, "out"));
            free(out);
        }
        const cJSON *ch = get(c, "choices");
        size_t out[64];
        cm_py_choices(&st, (size_t)get(ch, "n")->valueint, (size_t)get(ch, "k")->valueint, out);
        check_idx("choices", out, (size_t)get(ch, "k")->valueint, get(ch, "out"));
        CHECK(cm_mt_next_double(&st) == get(c, "after")->valuedouble);
    }
}

static void test_pcg(const cJSON *cases) {
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        uint64_t seed = (uint64_t)get(c, "seed")->valuedouble;
        cm_pcg64 g;
        cm_pcg_seed(&g, seed);
        const cJSON *v;
        int ok = 1;
        cJSON_ArrayForEach(v, get(c, "raw")) {
            char hex[17];
            snprintf(hex, sizeof hex, "%016" PRIx64, cm_pcg_next64(&g));
            ok &= !strcmp(hex, v->valuestring);
        }
        CHECK(ok);
        cm_pcg_seed(&g, seed);
        ok = 1;
        cJSON_ArrayForEach(v, get(c, "integers"))
            ok &= (double)cm_pcg_bounded(&g, (uint64_t)cJSON_GetArrayItem(v, 0)->valuedouble) == cJSON_GetArrayItem(v, 1)->valuedouble;
        CHECK(ok);
        size_t buf[64];
        cm_pcg_permutation(&g, 23, buf);
        check_idx("pcg permutation(23)", buf, 23, get(c, "permutation_23"));
        cJSON_ArrayForEach(v, get(c, "choice")) {
            size_t n = (size_t)get(v, "n")->valuedouble, k = (size_t)get(v, "k")->valuedouble;
            size_t *out = malloc(k * sizeof *out);
            CHECK_OK(cm_pcg_choice_noreplace(&g, n, k, out));
            char what[64];
            snprintf(what, sizeof what, "pcg choice(%zu, %zu)", n, k);
            check_idx(what, out, k, get(v, "out"));
            free(out);
        }
        char hex[17];
        snprintf(hex, sizeof hex, "%016" PRIx64, cm_pcg_next64(&g));
        /* integers(0, 2**64-1, endpoint=True) is a raw 64-bit draw */
        CHECK(!strcmp(hex, cJSON_GetArrayItem(get(c, "after"), 0)->valuestring));
    }
}

static void test_stratified(const cJSON *cases) {
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        const cJSON *labs = get(c, "labels");
        size_t n = (size_t)cJSON_GetArraySize(labs), n_test = (size_t)get(c, "n_test")->valueint;
        int *labels = malloc(n * sizeof *labels), k = 0;
        for (size_t i = 0; i < n; i++) {
            labels[i] = cJSON_GetArrayItem(labs, (int)i)->valueint;
            if (labels[i] + 1 > k) k = labels[i] + 1;
        }
        size_t *test = malloc(n_test * sizeof *test);
        CHECK_OK(cm_stratified_subsample(labels, n, k, n_test, (uint64_t)get(c, "seed")->valueint, test));
        char what[64];
        snprintf(what, sizeof what, "stratified n=%zu test=%zu", n, n_test);
        check_idx(what, test, n_test, get(c, "test"));
        free(labels);
        free(test);
    }
    /* HF's refusals: a class with one member. */
    int one[5] = {0, 0, 0, 1, 0};
    size_t t[2];
    CHECK(cm_stratified_subsample(one, 5, 2, 2, 42, t) == CM_ERR_ARG);
}

int main(void) {
    char *path = cm_path_join(check_env("CMTEB_SRC"), "tests/fixtures/learning/random.json"), *text = NULL;
    if (cm_read_file(path, &text, NULL)) SKIP("fixture tests/fixtures/learning/random.json not found");
    cJSON *doc = cJSON_Parse(text);
    CHECK(doc != NULL);
    if (doc) {
        test_legacy(get(doc, "legacy"));
        test_array_seed(get(doc, "array_seed"));
        test_undersample(get(doc, "undersample"));
        test_pyrandom(get(doc, "pyrandom"));
        test_pcg(get(doc, "pcg64"));
        test_stratified(get(doc, "stratified"));
    }
    cJSON_Delete(doc);
    free(text);
    free(path);
    return check_report();
}
