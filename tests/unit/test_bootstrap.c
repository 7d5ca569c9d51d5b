/*
 * test_bootstrap.c: per-item data and the paired bootstrap (reports/bootstrap.c).
 *
 * Against tests/fixtures/results/bootstrap_ref.json (tests/reference/ref_report_bootstrap.py):
 *  - Spearman (scipy.stats.spearmanr), AP (sklearn average_precision_score) and mean (numpy) on
 *    25 materialised resamples vs cmteb's multiplicity-weighted versions: tolerance 1e-12;
 *  - paired-bootstrap p-values and 95% intervals vs numpy's bootstrap with B = 20000 (different
 *    generators, so within Monte Carlo error: p within 0.02, interval ends within 10% of its width).
 * Plus: generator determinism and uniformity, pairing by id, parse errors.
 */
#include "check.h"
#include "cmteb/bootstrap.h"
#include "cmteb/util.h"

#include <stdint.h>
#include <string.h>

static double *num_array(const cJSON *a, size_t *n) {
    *n = (size_t)cJSON_GetArraySize(a);
    double *v = calloc(*n ? *n : 1, sizeof *v);
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) v[i++] = e->valuedouble;
    return v;
}

static cm_items_kind kind_of(const char *k) {
    return !strcmp(k, "spearman") ? CM_ITEMS_SPEARMAN : !strcmp(k, "ap") ? CM_ITEMS_AP : CM_ITEMS_MEAN;
}

static void test_against_reference(void) {
    char *path = cm_asprintf("%s/tests/fixtures/results/bootstrap_ref.json", check_env("CMTEB_SRC"));
    char *text = NULL;
    CHECK_OK(cm_read_file(path, &text, NULL));
    cJSON *ref = text ? cJSON_Parse(text) : NULL;
    CHECK(ref != NULL);
    if (!ref) { free(path); free(text); return; }
    size_t n = (size_t)cJSON_GetObjectItem(ref, "n")->valuedouble;
    const cJSON *resamples = cJSON_GetObjectItem(ref, "resamples");
    const char *kinds[] = {"spearman", "ap", "mean"};
    uint32_t *counts = calloc(n, sizeof *counts);
    for (int k = 0; k < 3; k++) {
        const cJSON *set = cJSON_GetObjectItem(cJSON_GetObjectItem(ref, "sets"), kinds[k]);
        size_t nx, ny;
        double *x = num_array(cJSON_GetObjectItem(set, "x"), &nx);
        double *y = cJSON_IsArray(cJSON_GetObjectItem(set, "y")) ? num_array(cJSON_GetObjectItem(set, "y"), &ny) : NULL;
        cm_items *it = NULL;
        CHECK_OK(cm_items_from_arrays(&it, kind_of(kinds[k]), nx, NULL, x, y));
        CHECK_NEAR(cm_items_score(it, NULL), cJSON_GetObjectItem(set, "full")->valuedouble, 1e-12);
        const cJSON *want = cJSON_GetObjectItem(set, "resampled");
        size_t r = 0, compared = 0;
        const cJSON *idx;
        cJSON_ArrayForEach(idx, resamples) {
            memset(counts, 0, n * sizeof *counts);
            const cJSON *e;
            cJSON_ArrayForEach(e, idx) counts[(size_t)e->valuedouble]++;
            const cJSON *w = cJSON_GetArrayItem(want, (int)r++);
            double got = cm_items_score(it, counts);
            if (cJSON_IsNull(w)) { CHECK(isnan(got)); continue; }
            CHECK_NEAR(got, w->valuedouble, 1e-12);
            compared++;
        }
        CHECK(compared >= 20);
        printf("%s: %zu materialised resamples match the reference\n", kinds[k], compared);
        cm_items_free(it);
        free(x);
        free(y);
    }
    free(counts);

    /* Paired bootstrap vs numpy's (B = 20000 both). */
    const cJSON *boot = cJSON_GetObjectItem(ref, "bootstrap");
    for (int k = 0; k < 3; k++) {
        const cJSON *b = cJSON_GetObjectItem(boot, kinds[k]);
        size_t na, nb, ny = 0;
        double *a = num_array(cJSON_GetObjectItem(b, "baseline"), &na);
        double *c = num_array(cJSON_GetObjectItem(b, "candidate"), &nb);
        double *y = cJSON_IsArray(cJSON_GetObjectItem(b, "y")) ? num_array(cJSON_GetObjectItem(b, "y"), &ny) : NULL;
        cm_items *ia = NULL, *ic = NULL;
        CHECK_OK(cm_items_from_arrays(&ia, kind_of(kinds[k]), na, NULL, a, y));
        CHECK_OK(cm_items_from_arrays(&ic, kind_of(kinds[k]), nb, NULL, c, y));
        cm_bootstrap_params p = {20000, 42};
        cm_bootstrap_result res;
        CHECK_OK(cm_paired_bootstrap(ia, ic, &p, kinds[k], &res, NULL));
        double width = cJSON_GetObjectItem(b, "ci_hi")->valuedouble - cJSON_GetObjectItem(b, "ci_lo")->valuedouble;
        CHECK_NEAR(res.delta, cJSON_GetObjectItem(b, "observed")->valuedouble, 1e-12);
        CHECK_NEAR(res.p_worse, cJSON_GetObjectItem(b, "p_worse")->valuedouble, 0.02);
        CHECK_NEAR(res.p_better, cJSON_GetObjectItem(b, "p_better")->valuedouble, 0.02);
        CHECK_NEAR(res.p_two_sided, cJSON_GetObjectItem(b, "p_two_sided")->valuedouble, 0.02);
        CHECK_NEAR(res.ci_lo, cJSON_GetObjectItem(b, "ci_lo")->valuedouble, 0.1 * width);
        CHECK_NEAR(res.ci_hi, cJSON_GetObjectItem(b, "ci_hi")->valuedouble, 0.1 * width);
        CHECK(res.n_items == na);
        printf("%s: p = %.4f (numpy %.4f), CI [%.4f, %.4f] (numpy [%.4f, %.4f])\n", kinds[k], res.p_two_sided,
               cJSON_GetObjectItem(b, "p_two_sided")->valuedouble, res.ci_lo, res.ci_hi,
               cJSON_GetObjectItem(b, "ci_lo")->valuedouble, cJSON_GetObjectItem(b, "ci_hi")->valuedouble);
        /* Same seed, same answer; identical runs are never significant. */
        cm_bootstrap_result again, same;
        CHECK_OK(cm_paired_bootstrap(ia, ic, &p, kinds[k], &again, NULL));
        CHECK(again.p_two_sided == res.p_two_sided && again.ci_lo == res.ci_lo);
        cm_bootstrap_params small = {500, 42};
        CHECK_OK(cm_paired_bootstrap(ia, ia, &small, kinds[k], &same, NULL));
        CHECK(same.delta == 0 && same.p_two_sided == 1.0);
        cm_items_free(ia);
        cm_items_free(ic);
        free(a); free(c); free(y);
    }
    cJSON_Delete(ref);
    free(text);
    free(path);
}

static void test_rng(void) {
    cm_rng a, b;
    cm_rng_seed(&a, 42);
    cm_rng_seed(&b, 42);
    int same = 1;
    for (int i = 0; i < 100; i++) same &= cm_rng_next(&a) == cm_rng_next(&b);
    CHECK(same);
    cm_rng_seed(&b, 43);
    CHECK(cm_rng_next(&a) != cm_rng_next(&b));
    /* Uniformity of cm_rng_below(7): chi-square over 70000 draws, 6 df (p = 0.001 cut at 22.46). */
    size_t bins[7] = {0};
    for (int i = 0; i < 70000; i++) bins[cm_rng_below(&a, 7)]++;
    double chi = 0;
    for (int i = 0; i < 7; i++) chi += (bins[i] - 10000.0) * (bins[i] - 10000.0) / 10000.0;
    CHECK(chi < 22.46);
    CHECK(cm_rng_below(&a, 1) == 0);
}

static void test_pairing(void) {
    const char *ida[] = {"q1", "q2", "q3", "q4"};
    const char *idb[] = {"q4", "q9", "q2", "q1"};
    double va[] = {0.1, 0.2, 0.3, 0.4}, vb[] = {0.45, 0.9, 0.25, 0.15};
    cm_items *a = NULL, *b = NULL, *pa = NULL, *pb = NULL;
    CHECK_OK(cm_items_from_arrays(&a, CM_ITEMS_MEAN, 4, ida, va, NULL));
    CHECK_OK(cm_items_from_arrays(&b, CM_ITEMS_MEAN, 4, idb, vb, NULL));
    CHECK_OK(cm_items_pair(a, b, &pa, &pb));
    CHECK(cm_items_count(pa) == 3 && cm_items_count(pb) == 3);
    /* Paired by id: q1, q2, q4 -> means (0.1+0.2+0.4)/3 and (0.15+0.25+0.45)/3. */
    CHECK_NEAR(cm_items_score(pa, NULL), 0.7 / 3, 1e-15);
    CHECK_NEAR(cm_items_score(pb, NULL), 0.85 / 3, 1e-15);
    cm_items_free(pa); cm_items_free(pb);
    /* Without ids, counts must match. */
    cm_items *c = NULL, *pc = NULL, *pd = NULL;
    CHECK_OK(cm_items_from_arrays(&c, CM_ITEMS_MEAN, 3, NULL, va, NULL));
    CHECK(cm_items_pair(a, c, &pc, &pd) == CM_ERR_ARG);
    CHECK(strstr(cm_last_error(), "different counts") != NULL);
    cm_items *s = NULL;
    double y[] = {1, 0, 1, 0};
    CHECK_OK(cm_items_from_arrays(&s, CM_ITEMS_AP, 4, NULL, va, y));
    CHECK(cm_items_pair(a, s, &pc, &pd) == CM_ERR_ARG);
    cm_items_free(a); cm_items_free(b); cm_items_free(c); cm_items_free(s);
}

static void test_parse(void) {
    struct { const char *json, *expect; } bad[] = {
        {"{\"kind\": \"median\", \"values\": [1]}", "field 'kind'"},
        {"{\"kind\": \"spearman\", \"pred\": [1, 2], \"gold\": [1]}", "different lengths"},
        {"{\"kind\": \"ap\", \"scores\": [0.1, 0.2], \"labels\": [1, 2]}", "expected 0 or 1"},
        {"{\"kind\": \"mean\", \"values\": [0.1, \"x\"]}", "element 1 is not a number"},
        {"{\"kind\": \"mean\", \"values\": [0.1], \"ids\": [\"a\", \"b\"]}", "field 'ids'"},
        {"{\"values\": [0.1]}", "field 'kind'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *o = cJSON_Parse(bad[i].json);
        cm_items *it = NULL;
        int rc = cm_items_from_json(&it, o, "x.items.json");
        CHECK(rc == CM_ERR_FORMAT && it == NULL);
        if (!strstr(cm_last_error(), bad[i].expect) || !strstr(cm_last_error(), "x.items.json"))
            fprintf(stderr, "case %zu: message '%s' lacks '%s'\n", i, cm_last_error(), bad[i].expect);
        CHECK(strstr(cm_last_error(), bad[i].expect) != NULL);
        cJSON_Delete(o);
    }
    /* Good: the "items" wrapper, numeric ids, booleans as labels. */
    cJSON *o = cJSON_Parse("{\"items\": {\"kind\": \"ap\", \"scores\": [0.9, 0.1, 0.5], \"labels\": [true, false, 1],"
                           " \"ids\": [1, 2, \"c\"]}}");
    cm_items *it = NULL;
    CHECK_OK(cm_items_from_json(&it, o, "y"));
    if (it) {
        CHECK(cm_items_kind_of(it) == CM_ITEMS_AP && cm_items_count(it) == 3);
        CHECK_NEAR(cm_items_score(it, NULL), 1.0, 1e-15);
    }
    cm_items_free(it);
    cJSON_Delete(o);
    /* Loading: a missing side file is NOTFOUND. */
    CHECK(cm_items_load(&it, check_env("CMTEB_TMP"), "NoSuchTask") == CM_ERR_NOTFOUND);
}

int main(void) {
    test_against_reference();
    test_rng();
    test_pairing();
    test_parse();
    return check_report();
}
