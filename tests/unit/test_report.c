/*
 * test_report.c: the leaderboard view (reports/report.c, render_*.c) over the
 * published NV-Embed-v1 results fixtures in both layouts.
 *
 * The MTEB(eng, v1) leaderboard showed NV-Embed-v1 at 69.32 with these category means
 * (mteb-protocol.md §4): Retrieval 59.36, Reranking 60.54, Clustering 52.80,
 * PairClassification 86.91, Classification 87.35, STS 82.84, Summarization 31.20.
 * The report must print exactly those, from the v1 files and from the current-layout
 * files; the unrounded means must equal numpy's (expected.json) to 1e-9.
 */
#include "check.h"
#include "cmteb/report.h"
#include "cmteb/util.h"

#include <string.h>

static const struct { const char *cat; const char *shown; } published[] = {
    {"Classification", "87.35"}, {"Clustering", "52.80"}, {"PairClassification", "86.91"}, {"Reranking", "60.54"},
    {"Retrieval", "59.36"}, {"STS", "82.84"}, {"Summarization", "31.20"},
};

static cJSON *expected;

static int cat_index(const char *name) {
    for (int c = 0; c < CM_REPORT_NCAT; c++)
        if (!strcmp(cm_report_category_name(c), name)) return c;
    return -1;
}

static const cm_report_model *model_by_label(const cm_report *r, const char *label) {
    for (size_t m = 0; m < r->n_models; m++)
        if (!strcmp(r->models[m].res->label, label)) return &r->models[m];
    return NULL;
}

static void check_leaderboard(const cm_report_model *M) {
    char b[32];
    CHECK(M->overall.present == 56 && M->overall.total == 56);
    cm_report_fmt_score(b, M->overall.mean);
    CHECK(!strcmp(b, "69.32"));
    CHECK_NEAR(M->overall.mean, cJSON_GetObjectItem(expected, "average")->valuedouble, 1e-9);
    const cJSON *cats = cJSON_GetObjectItem(expected, "categories");
    for (size_t k = 0; k < sizeof published / sizeof published[0]; k++) {
        int c = cat_index(published[k].cat);
        CHECK(c >= 0);
        if (c < 0) continue;
        cm_report_fmt_score(b, M->cat[c].mean);
        if (strcmp(b, published[k].shown)) fprintf(stderr, "%s: %s, published %s\n", published[k].cat, b, published[k].shown);
        CHECK(!strcmp(b, published[k].shown));
        const cJSON *e = cJSON_GetObjectItem(cats, published[k].cat);
        CHECK_NEAR(M->cat[c].mean, cJSON_GetObjectItem(e, "mean")->valuedouble, 1e-9);
        CHECK(M->cat[c].present == (size_t)cJSON_GetObjectItem(e, "n")->valuedouble);
    }
    CHECK(M->cat[CM_REPORT_OTHER].total == 0);
}

static void test_both_layouts(const cm_catalog *cat, const char *root) {
    char *v1 = cm_path_join(root, "v1"), *cur = cm_path_join(root, "current");
    const char *dirs[] = {cur, v1};
    cm_report_params p = cm_report_default_params();
    p.benchmark = "MTEB(eng, v1)";
    cm_report *r = NULL;
    CHECK_OK(cm_report_build(&r, cat, dirs, 2, &p));
    if (!r) { free(v1); free(cur); return; }
    CHECK(r->n_rows == 56 && r->n_models == 3 && !strcmp(r->title, "MTEB(eng, v1)"));
    const cm_report_model *mv1 = model_by_label(r, "NV-Embed-v1");
    const cm_report_model *ext = model_by_label(r, "nvidia/NV-Embed-v1@external");
    const cm_report_model *part = model_by_label(r, "nvidia/NV-Embed-v1@570834afd5");
    CHECK(mv1 && ext && part);
    if (mv1) check_leaderboard(mv1);
    if (ext) check_leaderboard(ext);
    if (part) {
        CHECK(part->overall.present == 10 && part->overall.total == 56);
        CHECK_NEAR(part->overall.mean, cJSON_GetObjectItem(expected, "partial_average")->valuedouble, 1e-9);
    }
    /* Per task, every model agrees with the published table. */
    const cJSON *tasks = cJSON_GetObjectItem(expected, "tasks");
    size_t agree = 0;
    for (size_t i = 0; i < r->n_rows; i++) {
        double want = cJSON_GetObjectItem(tasks, r->rows[i].task)->valuedouble;
        for (size_t m = 0; m < r->n_models; m++) {
            const cm_task_score *s = r->models[m].cells[i];
            if (!s) continue;
            CHECK_NEAR(100.0 * s->value, want, 1e-9);
            agree++;
        }
    }
    CHECK(agree == 56 + 56 + 10);

    /* Renderings. */
    cm_str md = {0}, csv = {0}, js = {0}, html = {0};
    CHECK_OK(cm_report_render(r, CM_REPORT_MD, &md));
    CHECK_OK(cm_report_render(r, CM_REPORT_CSV, &csv));
    CHECK_OK(cm_report_render(r, CM_REPORT_JSON, &js));
    CHECK_OK(cm_report_render(r, CM_REPORT_HTML, &html));
    CHECK(md.s && strstr(md.s, "| NV-Embed-v1 | 69.32 | 87.35 | 52.80 | 86.91 | 60.54 | 59.36 | 82.84 | 31.20 |"));
    CHECK(md.s && strstr(md.s, "| nvidia/NV-Embed-v1@570834afd5 | 75.50\xc2\xb9 |"));
    CHECK(md.s && strstr(md.s, "## Missing tasks") && strstr(md.s, "(46 of 56)"));
    CHECK(md.s && strstr(md.s, "split 'dev' absent; used 'test'"));
    CHECK(csv.s && strstr(csv.s, "\nNV-Embed-v1,,56,56,69.32,87.35,52.80,86.91,60.54,59.36,82.84,31.20,95.12,"));
    CHECK(csv.s && strstr(csv.s, "\nnvidia/NV-Embed-v1@570834afd5,570834afd5fef5bf3a3c2311a2b6e0a66f6f4f2c,10,56,75.50,"));
    cJSON *j = js.s ? cJSON_Parse(js.s) : NULL;
    CHECK(j != NULL);
    if (j) {
        const cJSON *models = cJSON_GetObjectItem(j, "models");
        CHECK(cJSON_GetArraySize(models) == 3);
        const cJSON *jm;
        cJSON_ArrayForEach(jm, models) {
            const cJSON *avg = cJSON_GetObjectItem(jm, "average");
            int partial = cJSON_IsTrue(cJSON_GetObjectItem(avg, "partial"));
            CHECK_NEAR(cJSON_GetObjectItem(avg, "mean")->valuedouble,
                       cJSON_GetObjectItem(expected, partial ? "partial_average" : "average")->valuedouble, 1e-9);
            CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(jm, "missing")) == (partial ? 46 : 0));
        }
        cJSON_Delete(j);
    }
    CHECK(html.s && strstr(html.s, "<!DOCTYPE html>") && strstr(html.s, "id=\"chart-categories\"") &&
          strstr(html.s, "id=\"chart-task-diff\"") && strstr(html.s, "</html>"));
    /* Self-contained: no scripts, no external resources. */
    CHECK(html.s && !strstr(html.s, "<script") && !strstr(html.s, "src=") && !strstr(html.s, "href="));
    cm_str_free(&md); cm_str_free(&csv); cm_str_free(&js); cm_str_free(&html);
    cm_report_free(r);
    free(v1);
    free(cur);
}

static void test_selection(const cm_catalog *cat, const char *root) {
    char *v1 = cm_path_join(root, "v1/NV-Embed-v1");
    const char *dirs[] = {v1};
    cm_report *r = NULL;
    /* No benchmark: every task found, CQADupstack subforums counted once. */
    CHECK_OK(cm_report_build(&r, cat, dirs, 1, NULL));
    if (r) {
        CHECK(r->n_rows == 56 && r->n_models == 1 && !strcmp(r->title, "Results"));
        CHECK(r->models[0].overall.present == 56);
        CHECK_NEAR(r->models[0].overall.mean, cJSON_GetObjectItem(expected, "average")->valuedouble, 1e-9);
        /* Rows are grouped by category. */
        for (size_t i = 1; i < r->n_rows; i++) CHECK(r->rows[i - 1].category <= r->rows[i].category);
    }
    cm_report_free(r);
    /* --tasks within a benchmark. */
    const char *tasks[] = {"SciFact", "sts17", "SprintDuplicateQuestions"};
    cm_report_params p = cm_report_default_params();
    p.benchmark = "MTEB";
    p.tasks = tasks;
    p.n_tasks = 3;
    CHECK_OK(cm_report_build(&r, cat, dirs, 1, &p));
    if (r) {
        CHECK(r->n_rows == 3 && !strcmp(r->title, "MTEB(eng, v1)"));
        CHECK_NEAR(r->models[0].overall.mean, (78.43 + 87.42 + 95.94) / 3, 1e-9);
    }
    cm_report_free(r);
    const char *unknown[] = {"NoSuchTask"};
    p.tasks = unknown;
    p.n_tasks = 1;
    CHECK(cm_report_build(&r, cat, dirs, 1, &p) == CM_ERR_NOTFOUND);
    CHECK(strstr(cm_last_error(), "NoSuchTask") != NULL);
    p.benchmark = "MTEB(fra)";
    p.tasks = NULL;
    p.n_tasks = 0;
    CHECK(cm_report_build(&r, cat, dirs, 1, &p) == CM_ERR_NOTFOUND);
    CHECK(strstr(cm_last_error(), "unknown benchmark") != NULL);
    /* Tasks outside the catalog land under Other, counted in the average. */
    const char *other[] = {"SciFact", "MyTask"};
    p.benchmark = NULL;
    p.tasks = other;
    p.n_tasks = 2;
    CHECK_OK(cm_report_build(&r, cat, dirs, 1, &p));
    if (r) {
        CHECK(r->n_rows == 2 && r->rows[1].category == CM_REPORT_OTHER);
        CHECK(r->models[0].overall.present == 1 && r->models[0].overall.total == 2);
    }
    cm_report_free(r);
    free(v1);
}

int main(void) {
    char *root = cm_asprintf("%s/tests/fixtures/results/published", check_env("CMTEB_SRC"));
    char *path = cm_path_join(root, "expected.json"), *text = NULL;
    CHECK_OK(cm_read_file(path, &text, NULL));
    expected = text ? cJSON_Parse(text) : NULL;
    CHECK(expected != NULL);
    cm_catalog *cat = NULL;
    CHECK_OK(cm_catalog_init(&cat));
    if (expected && cat) {
        test_both_layouts(cat, root);
        test_selection(cat, root);
    }
    cm_catalog_free(cat);
    cJSON_Delete(expected);
    free(text);
    free(path);
    free(root);
    return check_report();
}
