/*
 * test_results_read.c: reading MTEB results files back (reports/results_read.c).
 *
 * Inline files cover each spelling and nesting mteb used (v1 nested dicts, m1.12
 * flattened cos_sim_*, m2 cosine_*), subset and split selection with their fallbacks
 * and notes, x100 files, and bad input; the committed fixtures
 * (tests/fixtures/results/published, see tests/reference/ref_report_fixtures.py) cover folder
 * discovery, model names and CQADupstack's 12 subforum files.
 */
#include "check.h"
#include "cmteb/results_read.h"
#include "cmteb/util.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Picks spec out of json; returns the value (NaN if none) and keeps key/note for checks. */
static double pick(const char *json, const char *split, const char *subset, const char *metric, cm_task_score *s) {
    cJSON *root = cJSON_Parse(json);
    CHECK(root != NULL);
    cm_score_spec spec = {split, subset, metric};
    int rc = cm_task_score_pick(root, &spec, "f.json", s);
    CHECK_OK(rc);
    cJSON_Delete(root);
    return s->value;
}

static int has(const char *s, const char *sub) { return s && strstr(s, sub) != NULL; }

static void test_pick(void) {
    cm_task_score s;
    /* v1 nested pair classification: cos_sim.ap, not max.ap / manhattan. */
    const char *pc_v1 = "{\"test\": {\"cos_sim\": {\"accuracy\": 0.99, \"ap\": 0.8696}, \"manhattan\": {\"ap\": 0.88},"
                        " \"max\": {\"ap\": 0.88}, \"evaluation_time\": 5.7}, \"mteb_version\": \"0.0.2\","
                        " \"mteb_dataset_name\": \"SprintDuplicateQuestions\"}";
    CHECK_NEAR(pick(pc_v1, "test", NULL, "cosine_ap", &s), 0.8696, 1e-15);
    CHECK(s.layout == CM_LAYOUT_V1 && !strcmp(s.key, "cos_sim.ap") && !s.note && !s.percent);
    CHECK(s.task && !strcmp(s.task, "SprintDuplicateQuestions"));
    cm_task_score_clear(&s);
    /* m1.12 flattened: cos_sim_ap while main_score holds max_ap. */
    const char *pc_112 = "{\"task_name\": \"X\", \"scores\": {\"test\": [{\"hf_subset\": \"default\", \"cos_sim_ap\": 0.9,"
                         " \"max_ap\": 0.95, \"main_score\": 0.95}]}}";
    CHECK_NEAR(pick(pc_112, "test", NULL, "cosine_ap", &s), 0.9, 1e-15);
    CHECK(s.layout == CM_LAYOUT_CURRENT && !strcmp(s.key, "cos_sim_ap"));
    cm_task_score_clear(&s);
    /* m2: cosine_ap; asking with the old spelling finds the new one too. */
    const char *pc_m2 = "{\"scores\": {\"test\": [{\"cosine_ap\": 0.91, \"similarity_ap\": 0.92, \"main_score\": 0.93}]}}";
    CHECK_NEAR(pick(pc_m2, "test", NULL, "cosine_ap", &s), 0.91, 1e-15);
    cm_task_score_clear(&s);
    CHECK_NEAR(pick(pc_m2, "test", NULL, "cos_sim_ap", &s), 0.91, 1e-15);
    CHECK(!strcmp(s.key, "cosine_ap"));
    cm_task_score_clear(&s);

    /* STS17 v1: the en-en nesting; a missing subset is named with the ones present. */
    const char *sts17 = "{\"test\": {\"en-en\": {\"cos_sim\": {\"spearman\": 0.7795}}, \"ko-ko\": {\"cos_sim\":"
                        " {\"spearman\": 0.5}}, \"evaluation_time\": 1.6}, \"mteb_dataset_name\": \"STS17\"}";
    CHECK_NEAR(pick(sts17, "test", "en-en", "cosine_spearman", &s), 0.7795, 1e-15);
    CHECK(!strcmp(s.subset, "en-en") && !strcmp(s.key, "cos_sim.spearman"));
    cm_task_score_clear(&s);
    CHECK(isnan(pick(sts17, "test", "fr-fr", "cosine_spearman", &s)));
    CHECK(has(s.note, "no 'fr-fr' subset") && has(s.note, "en-en") && has(s.note, "ko-ko"));
    cm_task_score_clear(&s);
    /* A v1 file without per-language nesting for a subset task: the split's top level, noted. */
    const char *flat_v1 = "{\"test\": {\"accuracy\": 0.7, \"f1\": 0.6}}";
    CHECK_NEAR(pick(flat_v1, "test", "en", "accuracy", &s), 0.7, 1e-15);
    CHECK(has(s.note, "no 'en' subset") && has(s.note, "top level"));
    cm_task_score_clear(&s);

    /* Current layout: the right hf_subset among several; the only one as a noted fallback. */
    const char *multi = "{\"scores\": {\"test\": [{\"hf_subset\": \"de\", \"accuracy\": 0.6},"
                        " {\"hf_subset\": \"en\", \"accuracy\": 0.8}]}}";
    CHECK_NEAR(pick(multi, "test", "en", "accuracy", &s), 0.8, 1e-15);
    CHECK(!s.note && !strcmp(s.subset, "en"));
    cm_task_score_clear(&s);
    CHECK(isnan(pick(multi, "test", "fr", "accuracy", &s)));
    CHECK(has(s.note, "no hf_subset 'fr'") && has(s.note, "de, en"));
    cm_task_score_clear(&s);
    const char *one = "{\"scores\": {\"test\": [{\"hf_subset\": \"default\", \"accuracy\": 0.8}]}}";
    CHECK_NEAR(pick(one, "test", "en", "accuracy", &s), 0.8, 1e-15);
    CHECK(has(s.note, "hf_subset 'en' absent") && !strcmp(s.subset, "default"));
    cm_task_score_clear(&s);

    /* MSMARCO: dev wins over test; a file with only test is read with a note (NV-Embed's card). */
    const char *ms_both = "{\"dev\": {\"ndcg_at_10\": 0.4}, \"test\": {\"ndcg_at_10\": 0.6}}";
    CHECK_NEAR(pick(ms_both, "dev", NULL, "ndcg_at_10", &s), 0.4, 1e-15);
    CHECK(!s.note && !strcmp(s.split, "dev"));
    cm_task_score_clear(&s);
    const char *ms_test = "{\"scores\": {\"test\": [{\"ndcg_at_10\": 46.493, \"ndcg_at_100\": 0, \"main_score\": 46.493}]}}";
    CHECK_NEAR(pick(ms_test, "dev", NULL, "ndcg_at_10", &s), 0.46493, 1e-15);
    CHECK(s.percent && !strcmp(s.split, "test") && has(s.note, "split 'dev' absent; used 'test'"));
    cm_task_score_clear(&s);
    const char *two_splits = "{\"train\": {\"ndcg_at_10\": 0.4}, \"validation\": {\"ndcg_at_10\": 0.6}}";
    CHECK(isnan(pick(two_splits, "test", NULL, "ndcg_at_10", &s)));
    CHECK(has(s.note, "no split 'test'") && has(s.note, "train, validation"));
    cm_task_score_clear(&s);

    /* Metric absent: main_score, noted; nothing at all: NaN with the reason. */
    const char *main_only = "{\"scores\": {\"test\": [{\"main_score\": 0.55}]}}";
    CHECK_NEAR(pick(main_only, "test", NULL, "v_measure", &s), 0.55, 1e-15);
    CHECK(!strcmp(s.key, "main_score") && has(s.note, "metric 'v_measure' absent; used main_score"));
    cm_task_score_clear(&s);
    const char *none = "{\"test\": {\"mrr\": 0.55}}";
    CHECK(isnan(pick(none, "test", NULL, "map", &s)));
    CHECK(has(s.note, "no metric 'map'"));
    cm_task_score_clear(&s);
    /* x100 detected from main_score even when the picked value is small. */
    const char *pct = "{\"scores\": {\"test\": [{\"ndcg_at_10\": 0.9, \"main_score\": 12.5}]}}";
    CHECK_NEAR(pick(pct, "test", NULL, "ndcg_at_10", &s), 0.009, 1e-15);
    CHECK(s.percent);
    cm_task_score_clear(&s);
    /* Negative Spearman stays a fraction. */
    const char *neg = "{\"test\": {\"cos_sim\": {\"spearman\": -0.25}}}";
    CHECK_NEAR(pick(neg, "test", NULL, "cosine_spearman", &s), -0.25, 1e-15);
    CHECK(!s.percent);
    cm_task_score_clear(&s);

    /* Not a results file. */
    cJSON *root = cJSON_Parse("{\"name\": \"x\", \"list\": [1, 2]}");
    cm_score_spec spec = {"test", NULL, "accuracy"};
    CHECK(cm_task_score_pick(root, &spec, "odd.json", &s) == CM_ERR_FORMAT);
    CHECK(has(cm_last_error(), "odd.json") && has(cm_last_error(), "not an MTEB results file"));
    cm_task_score_clear(&s);
    cJSON_Delete(root);
    CHECK(cm_results_detect_layout(NULL) == CM_LAYOUT_UNKNOWN);
}

static void test_fixture_folders(void) {
    char *root = cm_asprintf("%s/tests/fixtures/results/published", check_env("CMTEB_SRC"));
    char **folders = NULL;
    size_t n = 0;
    CHECK_OK(cm_results_find_models(root, &folders, &n));
    CHECK(n == 3);
    for (size_t i = 0; i < n; i++) printf("model folder: %s\n", folders[i]);
    cm_catalog *cat = NULL;
    CHECK_OK(cm_catalog_init(&cat));
    for (size_t i = 0; i < n; i++) {
        cm_model_results *m = NULL;
        CHECK_OK(cm_model_results_load(&m, folders[i], cat));
        if (!m) continue;
        const char *base = cm_path_basename(folders[i]);
        if (!strcmp(base, "NV-Embed-v1")) {
            /* v1 flat: the folder is the model; 12 subforum files + the other 55 tasks. */
            CHECK(!strcmp(m->name, "NV-Embed-v1") && m->revision == NULL);
            CHECK(m->n_scores == 55 + 12 + 1);
            const cm_task_score *cqa = cm_model_results_get(m, "CQADupstackRetrieval");
            CHECK(cqa && has(cqa->note, "mean of the 12"));
            if (cqa) CHECK_NEAR(cqa->value, 0.5051, 1e-12);
            const cm_task_score *sts22 = cm_model_results_get(m, "sts22");   /* case-insensitive */
            CHECK(sts22 && !strcmp(sts22->subset, "en"));
            if (sts22) CHECK_NEAR(sts22->value, 0.6985, 1e-12);
            const cm_task_score *ms = cm_model_results_get(m, "MSMARCO");
            CHECK(ms && !strcmp(ms->split, "dev") && !ms->note);
            if (ms) CHECK_NEAR(ms->value, 0.4649, 1e-12);
        } else if (!strcmp(base, "external")) {
            CHECK(!strcmp(m->name, "nvidia/NV-Embed-v1") && m->revision && !strcmp(m->revision, "external"));
            CHECK(m->n_scores == 56);
            const cm_task_score *pc = cm_model_results_get(m, "TwitterSemEval2015");
            CHECK(pc && pc->percent && !strcmp(pc->key, "cos_sim_ap"));
            if (pc) CHECK_NEAR(pc->value, 0.7873, 1e-12);
        } else {
            CHECK(!strcmp(m->name, "nvidia/NV-Embed-v1") && m->revision &&
                  !strcmp(m->revision, "570834afd5fef5bf3a3c2311a2b6e0a66f6f4f2c"));
            CHECK(m->n_scores == 10);
            const cm_task_score *pc = cm_model_results_get(m, "SprintDuplicateQuestions");
            CHECK(pc && !pc->percent && !strcmp(pc->key, "cosine_ap"));
        }
        cm_model_results_free(m);
    }
    cm_results_free_folders(folders, n);

    /* One model folder given directly is found as itself. */
    char *one = cm_asprintf("%s/v1/NV-Embed-v1", root);
    CHECK_OK(cm_results_find_models(one, &folders, &n));
    CHECK(n == 1 && !strcmp(folders[0], one));
    cm_results_free_folders(folders, n);
    free(one);
    CHECK(cm_results_find_models("/nonexistent/results", &folders, &n) == CM_ERR_NOTFOUND);
    CHECK(has(cm_last_error(), "/nonexistent/results"));
    cm_catalog_free(cat);
    free(root);
}

static void write_text(const char *path, const char *text) { CHECK_OK(cm_write_file_atomic(path, text, strlen(text))); }

static void test_bad_input(void) {
    char *dir = cm_asprintf("%s/results_read/m", check_env("CMTEB_TMP"));
    CHECK_OK(cm_mkdir_p(dir));
    char *good = cm_path_join(dir, "STS12.json"), *odd = cm_path_join(dir, "notes.json");
    char *bad = cm_path_join(dir, "STS13.json"), *empty = cm_asprintf("%s/results_read/empty", check_env("CMTEB_TMP"));
    unlink(bad);
    write_text(good, "{\"test\": {\"cos_sim\": {\"spearman\": 0.5}}}");
    write_text(odd, "{\"comment\": \"not results\"}");
    cm_model_results *m = NULL;
    CHECK_OK(cm_model_results_load(&m, dir, NULL));
    if (m) {
        CHECK(m->n_scores == 1 && m->n_warnings == 1 && has(m->warnings[0], "notes.json"));
        /* Without a catalog a task is read as main_score of split test: absent here. */
        CHECK(isnan(m->scores[0].value) && has(m->scores[0].note, "no metric 'main_score'"));
    }
    cm_model_results_free(m);
    write_text(bad, "{\n  \"test\": {\n    \"cos_sim\": {\"spearman\": 0.5,}\n  }\n}\n");
    CHECK(cm_model_results_load(&m, dir, NULL) == CM_ERR_FORMAT);
    CHECK(has(cm_last_error(), "STS13.json:3: invalid JSON"));
    CHECK_OK(cm_mkdir_p(empty));
    char **folders;
    size_t n;
    CHECK(cm_results_find_models(empty, &folders, &n) == CM_ERR_NOTFOUND);
    CHECK(has(cm_last_error(), "no results files found"));
    free(good); free(odd); free(bad); free(dir); free(empty);
}

int main(void) {
    test_pick();
    test_fixture_folders();
    test_bad_input();
    return check_report();
}
