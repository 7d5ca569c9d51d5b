/*
 * test_check.c: regression verdicts (reports/check.c) and the comparison they
 * rest on (cm_report_compare), on tests/fixtures/results/check
 * (tests/reference/ref_report_check_fixtures.py: per-item side files; numpy's
 * paired-bootstrap one-sided p-values with B = 10000 in expected.json).
 */
#include "check.h"
#include "cmteb/check.h"
#include "cmteb/util.h"

#include <string.h>

static const char *fix;
static cm_catalog *cat;
static cJSON *expected;

static cm_report *build(const char *base, const char *cand, int compare) {
    char *b = cm_path_join(fix, base), *c = cm_path_join(fix, cand);
    const char *dirs[] = {b, c};
    cm_report *r = NULL;
    CHECK_OK(cm_report_build(&r, cat, dirs, 2, NULL));
    if (r && compare) {
        cm_bootstrap_params bp = cm_bootstrap_default_params();
        CHECK_OK(cm_report_compare(r, &bp, 0.05));
    }
    free(b);
    free(c);
    return r;
}

static size_t row_of(const cm_report *r, const char *task) {
    for (size_t i = 0; i < r->n_rows; i++)
        if (!strcmp(r->rows[i].task, task)) return i;
    return (size_t)-1;
}

static void test_identical(void) {
    cm_report *r = build("baseline", "baseline", 1);
    if (!r) return;
    CHECK(r->n_rows == 3 && r->n_models == 2);
    cm_check_verdict *v = NULL;
    size_t failed = 99;
    CHECK_OK(cm_check_evaluate(r, NULL, &v, &failed));
    CHECK(failed == 0);
    for (size_t i = 0; v && i < r->n_rows; i++) {
        CHECK(v[i].status == CM_CHECK_OK);
        const cm_report_diff *d = &r->models[1].diff[i];
        CHECK(d->tested && d->delta == 0 && d->bs.p_two_sided == 1.0);
    }
    /* The joint category and average tests ran too. */
    CHECK(r->models[1].overall_diff.tested && r->models[1].overall_diff.n_common == 3);
    free(v);
    cm_report_free(r);
}

static void test_small_drop(void) {
    cm_report *r = build("baseline", "small_drop", 1);
    if (!r) return;
    const cJSON *e = cJSON_GetObjectItem(expected, "small_drop");
    size_t i = row_of(r, "SciFact");
    CHECK(i < r->n_rows);
    if (i >= r->n_rows) { cm_report_free(r); return; }
    const cm_report_diff *d = &r->models[1].diff[i];
    CHECK(d->tested && d->bs.n_items == 300);   /* paired by id although the order differs */
    CHECK_NEAR(d->delta, cJSON_GetObjectItem(e, "delta_points")->valuedouble, 1e-6);
    CHECK_NEAR(100 * d->bs.delta, cJSON_GetObjectItem(e, "delta_points")->valuedouble, 1e-9);
    CHECK(d->bs.p_worse < 0.005);
    CHECK(cm_report_diff_significant(r, d));
    cm_check_verdict *v = NULL;
    size_t failed = 0;
    cm_check_params p = cm_check_default_params();
    CHECK_OK(cm_check_evaluate(r, &p, &v, &failed));
    CHECK(failed == 1 && v && v[i].status == CM_CHECK_SIGNIFICANT);
    free(v);
    /* Tolerance only: passes. */
    cm_report_free(r);
    r = build("baseline", "small_drop", 0);
    CHECK_OK(cm_check_evaluate(r, &p, &v, &failed));
    CHECK(failed == 0 && v && v[i].status == CM_CHECK_OK);
    /* A tolerance under the drop: fails as a plain drop. */
    free(v);
    p.tolerance = 0.2;
    CHECK_OK(cm_check_evaluate(r, &p, &v, &failed));
    CHECK(failed == 1 && v && v[i].status == CM_CHECK_DROPPED);
    free(v);
    cm_report_free(r);
}

static void test_noise(void) {
    cm_report *r = build("baseline", "noise", 1);
    if (!r) return;
    const cJSON *e = cJSON_GetObjectItem(expected, "noise");
    size_t i = row_of(r, "STSBenchmark");
    CHECK(i < r->n_rows);
    if (i >= r->n_rows) { cm_report_free(r); return; }
    const cm_report_diff *d = &r->models[1].diff[i];
    CHECK(d->tested && d->bs.n_items == 400);
    CHECK_NEAR(100 * d->bs.delta, cJSON_GetObjectItem(e, "delta_points")->valuedouble, 1e-9);
    /* Different generators (xoshiro vs numpy PCG64), B = 1000 vs 10000: Monte Carlo error only. */
    CHECK_NEAR(d->bs.p_worse, cJSON_GetObjectItem(e, "p_worse")->valuedouble, 0.05);
    printf("noise: p_worse %.4f (numpy %.4f)\n", d->bs.p_worse, cJSON_GetObjectItem(e, "p_worse")->valuedouble);
    CHECK(!cm_report_diff_significant(r, d));
    cm_check_verdict *v = NULL;
    size_t failed = 9;
    CHECK_OK(cm_check_evaluate(r, NULL, &v, &failed));
    CHECK(failed == 0 && v && v[i].status == CM_CHECK_OK);
    /* Table and JUnit. */
    cm_str t = {0}, x = {0};
    CHECK_OK(cm_check_render_table(r, NULL, v, &t));
    CHECK_OK(cm_check_render_junit(r, NULL, v, &x));
    CHECK(t.s && strstr(t.s, "| STSBenchmark | cosine_spearman | 76.92 | 76.68 | -0.24 |"));
    CHECK(t.s && strstr(t.s, "3 tasks: 0 regressed"));
    CHECK(x.s && strstr(x.s, "tests=\"3\" failures=\"0\"") && strstr(x.s, "name=\"STSBenchmark\""));
    cm_str_free(&t);
    cm_str_free(&x);
    free(v);
    cm_report_free(r);
}

static void test_junit_escaping(void) {
    /* A regression's message lands in an attribute and in text, escaped. */
    cm_report *r = build("baseline", "small_drop", 1);
    if (!r) return;
    cm_check_verdict *v = NULL;
    size_t failed = 0;
    CHECK_OK(cm_check_evaluate(r, NULL, &v, &failed));
    free(r->models[1].res->label);
    r->models[1].res->label = cm_strdup("cand <\"&'>");
    cm_str x = {0};
    CHECK_OK(cm_check_render_junit(r, NULL, v, &x));
    CHECK(x.s && strstr(x.s, "cand &lt;&quot;&amp;&#39;&gt;") && !strstr(x.s, "cand <"));
    CHECK(x.s && strstr(x.s, "<failure type=\"regression\" message=\"SciFact ndcg_at_10 fell 0.30 points"));
    CHECK(x.s && strstr(x.s, "failures=\"1\""));
    cm_str_free(&x);
    free(v);
    cm_report_free(r);
}

int main(void) {
    fix = cm_asprintf("%s/tests/fixtures/results/check", check_env("CMTEB_SRC"));
    char *path = cm_path_join(fix, "expected.json"), *text = NULL;
    CHECK_OK(cm_read_file(path, &text, NULL));
    expected = text ? cJSON_Parse(text) : NULL;
    CHECK_OK(cm_catalog_init(&cat));
    if (expected && cat) {
        test_identical();
        test_small_drop();
        test_noise();
        test_junit_escaping();
    }
    cJSON_Delete(expected);
    cm_catalog_free(cat);
    free(text);
    free(path);
    free((char *)fix);
    return check_report();
}
