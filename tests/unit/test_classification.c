/*
 * test_classification.c: the Classification evaluator end to end on fixed
 * vectors (precomputed:DIR over tests/fixtures/learning/pipeline), against
 * MTEB's own procedure run with numpy + scikit-learn on the same vectors
 * (tests/reference/ref_learn_pipeline.py -> expected.json): every experiment's
 * accuracy, macro F1, weighted F1 and AP to 1e-9, for a multi-class task with
 * string labels and a binary task whose test split is capped by the
 * stratified subsample. Also: the per-item data averages to the main score,
 * and bad input fails with file:line and field.
 */
#include "check.h"
#include "cmteb/embedder.h"
#include "cmteb/encoder.h"
#include "cmteb/evaluator.h"
#include "cmteb/util.h"
#include "datasets/classification_data.h"

#include <cjson/cJSON.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* Runs the evaluator on a task given as JSON text; returns its status. */
static int run(cm_embedder *emb, const char *task_json, cJSON *scores, cJSON *items) {
    cJSON *obj = cJSON_Parse(task_json);
    cm_task *t = NULL;
    int rc = cm_task_from_json(&t, obj, NULL, "test");
    cJSON_Delete(obj);
    if (rc) return rc;
    cm_eval_options opts = cm_eval_default_options();
    cm_eval_ctx ctx = {emb, t->data, 0, 1, &opts, items};
    rc = cm_eval_classification(t, &ctx, scores);
    cm_task_free(t);
    return rc;
}

static void compare(const char *name, const cJSON *got, const cJSON *want) {
    static const char *const keys[] = {"accuracy", "f1", "f1_weighted", "ap", "ap_weighted", "main_score"};
    for (int i = 0; i < 6; i++) {
        const cJSON *w = get(want, keys[i]), *g = get(got, keys[i]);
        if (!w) { CHECK(g == NULL); continue; }
        CHECK(cJSON_IsNumber(g));
        if (g) CHECK_NEAR(g->valuedouble, w->valuedouble, 1e-9);
    }
    const cJSON *ge = get(got, "scores_per_experiment"), *we = get(want, "scores_per_experiment");
    CHECK(cJSON_GetArraySize(ge) == cJSON_GetArraySize(we));
    for (int e = 0; e < cJSON_GetArraySize(we) && e < cJSON_GetArraySize(ge); e++)
        for (int i = 0; i < 5; i++) {
            const cJSON *w = get(cJSON_GetArrayItem(we, e), keys[i]), *g = get(cJSON_GetArrayItem(ge, e), keys[i]);
            if (w && g) CHECK_NEAR(g->valuedouble, w->valuedouble, 1e-9);
            else CHECK(!w && !g);
        }
    printf("%s: accuracy %.6f (sklearn %.6f)\n", name, get(got, "accuracy") ? get(got, "accuracy")->valuedouble : -1,
           get(want, "accuracy")->valuedouble);
}

static void write_file(const char *dir, const char *name, const char *text) {
    cm_mkdir_p(dir);
    char *p = cm_path_join(dir, name);
    cm_write_file_atomic(p, text, strlen(text));
    free(p);
}

static void expect_error(cm_embedder *emb, const char *task_json, const char *needle1, const char *needle2) {
    cJSON *scores = cJSON_CreateObject();
    int rc = run(emb, task_json, scores, NULL);
    CHECK(rc != CM_OK);
    const char *msg = cm_last_error();
    int ok = strstr(msg, needle1) && (!needle2 || strstr(msg, needle2));
    if (!ok) fprintf(stderr, "unexpected message: %s\n", msg);
    CHECK(ok);
    cJSON_Delete(scores);
}

/* Interns the JSON values of `arr`, sorts, and checks the sorted names. */
static void check_label_order(const char *arr, int numeric_strings, const char *const *want, int n_want) {
    cJSON *a = cJSON_Parse(arr);
    cm_label_table *t = NULL;
    CHECK_OK(cm_label_table_init(&t));
    const cJSON *v;
    int id;
    cJSON_ArrayForEach(v, a) CHECK_OK(cm_label_table_add(t, v, numeric_strings, &id));
    int *remap = NULL;
    CHECK_OK(cm_label_table_sort(t, &remap));
    CHECK((int)cm_label_table_count(t) == n_want);
    for (int i = 0; i < n_want && i < (int)cm_label_table_count(t); i++)
        CHECK(!strcmp(cm_label_table_name(t, i), want[i]));
    free(remap);
    cm_label_table_free(t);
    cJSON_Delete(a);
}

int main(void) {
    /* labels sort as numpy.unique sorts them: numbers by value, strings by code point */
    const char *const nums[] = {"2", "9", "10"}, *const strs[] = {"B", "a", "b", "\u00e9"};
    check_label_order("[10, 9, 2, 9, 10.0]", 0, nums, 3);
    check_label_order("[\"b\", \"a\", \"B\", \"\u00e9\", \"a\"]", 0, strs, 4);
    check_label_order("[\"10\", \"9\", \"2\"]", 1, nums, 3);   /* CSV: numeric text is a number */
    const char *const text_nums[] = {"10", "2", "9"};
    check_label_order("[\"10\", \"9\", \"2\"]", 0, text_nums, 3);   /* JSON strings stay strings */

    char *dir = cm_path_join(check_env("CMTEB_SRC"), "tests/fixtures/learning/pipeline");
    char *exp_path = cm_path_join(dir, "expected.json"), *text = NULL;
    if (cm_read_file(exp_path, &text, NULL)) SKIP("fixture tests/fixtures/learning/pipeline not found");
    cJSON *expected = cJSON_Parse(text);
    char *spec = cm_asprintf("precomputed:%s", dir);
    cm_encoder *enc;
    cm_embedder *emb;
    check_open_embedder(spec, &enc, &emb);
    if (!emb) return check_report();

    char task[4096];
    /* multi-class, string labels */
    snprintf(task, sizeof task, "{\"name\": \"Multi\", \"type\": \"Classification\", \"data\": \"%s/clf_multi\", "
             "\"settings\": {\"n_experiments\": 10, \"samples_per_label\": 8}}", dir);
    cJSON *scores = cJSON_CreateObject(), *items = cJSON_CreateObject();
    CHECK_OK(run(emb, task, scores, items));
    compare("clf_multi", scores, get(expected, "clf_multi"));
    /* per-item: fraction of experiments right per test row; their mean is the accuracy */
    const cJSON *vals = get(items, "values");
    double sum = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, vals) sum += v->valuedouble;
    CHECK(!strcmp(get(items, "kind")->valuestring, "mean"));
    CHECK(cJSON_GetArraySize(get(items, "ids")) == cJSON_GetArraySize(vals) && cJSON_GetArraySize(vals) == 90);
    CHECK_NEAR(sum / cJSON_GetArraySize(vals), get(scores, "accuracy")->valuedouble, 1e-12);
    cJSON_Delete(scores);
    cJSON_Delete(items);

    /* binary, int labels, test split capped at 100 rows by the stratified subsample */
    snprintf(task, sizeof task, "{\"name\": \"Binary\", \"type\": \"Classification\", \"data\": \"%s/clf_binary\", "
             "\"settings\": {\"n_experiments\": 10, \"samples_per_label\": 16, \"test_subsample\": 100, "
             "\"test_subsample_seed\": 42}}", dir);
    scores = cJSON_CreateObject();
    CHECK_OK(run(emb, task, scores, NULL));
    compare("clf_binary", scores, get(expected, "clf_binary"));
    cJSON_Delete(scores);

    /* bad input (texts of our own: the hash model embeds them) */
    cm_encoder *henc;
    cm_embedder *hemb;
    check_open_embedder("hash:32", &henc, &hemb);
    cm_embedder_free(emb);
    emb = hemb;
    char *tmp = cm_path_join(check_env("CMTEB_TMP")[0] ? check_env("CMTEB_TMP") : "/tmp", "h3_clf_bad");
    write_file(tmp, "train.jsonl", "{\"text\": \"multi train 0: alpha\", \"label\": \"a\"}\n"
               "{\"text\": \"multi train 1: alpha\", \"label\": \"b\"}\n{\"text\": \"multi train 2: alpha\"}\n");
    write_file(tmp, "test.jsonl", "{\"text\": \"multi test 0: alpha\", \"label\": \"a\"}\n");
    snprintf(task, sizeof task, "{\"name\": \"Bad\", \"type\": \"Classification\", \"data\": \"%s\"}", tmp);
    expect_error(emb, task, "train.jsonl:3", "'label'");
    write_file(tmp, "train.jsonl", "{\"text\": \"multi train 0: alpha\", \"label\": 1}\n"
               "{\"text\": \"multi train 1: alpha\", \"label\": \"x\"}\n");
    expect_error(emb, task, "mix numbers and strings", NULL);
    write_file(tmp, "train.jsonl", "{\"text\": \"multi train 0: alpha\", \"label\": 1}\n"
               "{\"text\": \"multi train 1: alpha\", \"label\": 1}\n");
    write_file(tmp, "test.jsonl", "{\"text\": \"multi test 0: alpha\", \"label\": 1}\n");
    expect_error(emb, task, "single label", NULL);
    write_file(tmp, "test.jsonl", "{\"text\": 5, \"label\": 1}\n");
    expect_error(emb, task, "test.jsonl:1", "'text'");
    snprintf(task, sizeof task, "{\"name\": \"Bad\", \"type\": \"Classification\", \"data\": \"%s/nowhere\"}", tmp);
    expect_error(emb, task, "nowhere", NULL);

    free(tmp);
    cm_embedder_free(emb);
    cm_encoder_free(henc);
    cm_encoder_free(enc);
    cJSON_Delete(expected);
    free(text); free(exp_path); free(spec); free(dir);
    return check_report();
}
