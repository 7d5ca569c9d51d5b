/*
 * test_clustering.c: the Clustering evaluator end to end on fixed vectors
 * (precomputed:DIR over tests/fixtures/learning/pipeline) against MTEB's own
 * procedures run with scikit-learn on the same vectors
 * (tests/reference/ref_learn_pipeline.py -> expected.json):
 *   v1    per-set V-measures of MiniBatchKMeans(batch 500) after
 *         np.random.seed(42), to 1e-9 (cmteb draws the same RandomState
 *         stream and takes the same steps);
 *   fast  MTEB 2's pooled, sampled, bootstrapped protocol, every round.
 * Also: the flat layout with hierarchical labels, per-item data, and errors
 * for bad input; v1 with the store's rows lent, with none lent (slots) and
 * refused after one or two sets (slots): the same bits; a set whose texts
 * are missing, and a bad row after good ones, reported as such.
 */
#include "check.h"
#include "cmteb/embedder.h"
#include "cmteb/encoder.h"
#include "cmteb/evaluator.h"
#include "cmteb/util.h"
#include "engine/backend.h"

#include <cjson/cJSON.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static int run(cm_embedder *emb, const char *task_json, const char *protocol, cJSON *scores, cJSON *items) {
    cJSON *obj = cJSON_Parse(task_json);
    cm_task *t = NULL;
    int rc = cm_task_from_json(&t, obj, NULL, "test");
    cJSON_Delete(obj);
    if (rc) return rc;
    cm_eval_options opts = cm_eval_default_options();
    cm_clustering_protocol proto = CM_CLUSTERING_V1;
    if (protocol && (rc = cm_clustering_protocol_parse(protocol, &proto))) {
        cm_task_free(t);
        return rc;
    }
    if (protocol) opts.clustering_protocol = (int)proto;
    cm_eval_ctx ctx = {emb, t->data, 2, 1, &opts, items};
    rc = cm_eval_clustering(t, &ctx, scores);
    cm_task_free(t);
    return rc;
}

static void compare_lists(const char *what, const cJSON *got, const cJSON *want) {
    CHECK(cJSON_GetArraySize(got) == cJSON_GetArraySize(want));
    for (int i = 0; i < cJSON_GetArraySize(want) && i < cJSON_GetArraySize(got); i++) {
        double g = cJSON_GetArrayItem(got, i)->valuedouble, w = cJSON_GetArrayItem(want, i)->valuedouble;
        printf("%s[%d]: %.9f (sklearn %.9f)\n", what, i, g, w);
        CHECK_NEAR(g, w, 1e-9);
    }
}

static void write_file(const char *dir, const char *name, const char *text) {
    cm_mkdir_p(dir);
    char *p = cm_path_join(dir, name);
    cm_write_file_atomic(p, text, strlen(text));
    free(p);
}

/* A backend over another encoder that lends its rows for the first `lend` calls only, then refuses (as a store
 * whose later rows are not mapped would): v1 then clusters every set through its slots. */
typedef struct { cm_encoder *inner; int lend, calls; } flaky;
static int fl_encode(void *st, const char *const *texts, size_t n, cm_role role, const char *instr, float *out) {
    return cm_encoder_encode(((flaky *)st)->inner, texts, n, role, instr, out);
}
static int fl_view(void *st, const char *const *texts, size_t n, cm_role role, const char *instr,
                   const float **rows) {
    flaky *f = st;
    if (f->calls++ >= f->lend) return CM_ERR_UNSUPPORTED;
    return cm_encoder_view(f->inner, texts, n, role, instr, rows);
}
static void fl_free(void *st) { (void)st; }
static const cm_backend_i fl_backend = {.scheme = "flaky", .usage = "test", .encode = fl_encode, .free = fl_free,
                                        .view = fl_view};

/* v1 on the fixture's 3 sets with rows lent for the first `lend` lookups: its scores' JSON text (caller frees). */
static char *v1_with_lending(cm_encoder *inner, int lend, const char *task) {
    flaky f = {inner, lend, 0};
    cm_encoder *enc = NULL;
    cm_embedder *emb = NULL;
    cm_embedder_params bp = cm_embedder_default_params();
    bp.quiet = 1;
    CHECK_OK(cm_encoder_init_backend(&enc, &fl_backend, &f, cm_encoder_get_info(inner)));
    if (enc) CHECK_OK(cm_embedder_init(&emb, enc, &bp));
    cJSON *scores = cJSON_CreateObject(), *items = cJSON_CreateObject();
    char *out = NULL;
    if (emb && !run(emb, task, NULL, scores, items)) {
        cJSON_AddItemToObject(scores, "items", items);
        items = NULL;
        out = cJSON_PrintUnformatted(scores);
    }
    CHECK(out != NULL);
    CHECK(f.calls == (lend < 3 ? lend + 1 : 3));   /* lookups asked: up to the first refusal */
    cJSON_Delete(scores);
    cJSON_Delete(items);
    cm_embedder_free(emb);
    cm_encoder_free(enc);
    return out;
}

int main(void) {
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
    snprintf(task, sizeof task, "{\"name\": \"Sets\", \"type\": \"Clustering\", \"data\": \"%s/clusters\", "
             "\"settings\": {\"batch_size\": 500, \"protocol\": \"v1\"}}", dir);
    cJSON *scores = cJSON_CreateObject(), *items = cJSON_CreateObject();
    CHECK_OK(run(emb, task, NULL, scores, items));
    const cJSON *want = get(expected, "clusters_v1");
    compare_lists("v1 v_measures", get(scores, "v_measures"), get(want, "v_measures"));
    CHECK_NEAR(get(scores, "v_measure")->valuedouble, get(want, "v_measure")->valuedouble, 1e-9);
    CHECK_NEAR(get(scores, "v_measure_std")->valuedouble, get(want, "v_measure_std")->valuedouble, 1e-9);
    CHECK_NEAR(get(scores, "main_score")->valuedouble, get(want, "v_measure")->valuedouble, 1e-12);
    CHECK(cJSON_GetArraySize(get(items, "values")) == 3 && !strcmp(get(items, "kind")->valuestring, "mean"));
    cJSON_Delete(scores);
    cJSON_Delete(items);

    /* lent rows, none, or slots after 1 or 2 lent sets: the same scores and items, bit for bit */
    {
        char *all = v1_with_lending(enc, 99, task);
        for (int lend = 0; lend < 3; lend++) {
            char *got = v1_with_lending(enc, lend, task);
            CHECK(all && got && !strcmp(all, got));
            if (all && got && strcmp(all, got)) fprintf(stderr, "lend %d:\n%s\nall lent:\n%s\n", lend, got, all);
            free(got);
        }
        free(all);
    }

    /* errors with lent rows: a set with a text the store lacks names its set; a bad row after good ones is the
     * file's error, not a score */
    {
        char *src = cm_path_join(dir, "clusters/test.jsonl"), *rows = NULL;
        CHECK_OK(cm_read_file(src, &rows, NULL));
        char *bad_dir = cm_path_join(check_env("CMTEB_TMP")[0] ? check_env("CMTEB_TMP") : "/tmp", "h3_clu_lent_bad");
        char *second = rows ? strchr(rows, '\n') + 1 : NULL;
        for (int c = 0; rows && c < 2; c++) {
            cm_str t = {0};
            if (c == 0) {   /* set 2's first sentence replaced */
                cm_str_printf(&t, "%.*s", (int)(second - rows), rows);
                const char *q = strstr(second, "[\"") + 2, *e = strchr(q, '"');
                cm_str_printf(&t, "%.*szz not in the store%s", (int)(q - second), second, e);
            } else {   /* a fourth row that is not JSON */
                cm_str_printf(&t, "%s{\"sentences\": [\"a\"], \"labels\": [1]\n", rows);
            }
            write_file(bad_dir, "test.jsonl", t.s);
            cm_str_free(&t);
            char bt[2048];
            snprintf(bt, sizeof bt, "{\"name\": \"Sets\", \"type\": \"Clustering\", \"data\": \"%s\", "
                     "\"settings\": {\"batch_size\": 500, \"protocol\": \"v1\"}}", bad_dir);
            cJSON *sc = cJSON_CreateObject();
            int rc = run(emb, bt, NULL, sc, NULL);
            if (c == 0) {
                CHECK(rc == CM_ERR_NOTFOUND);
                CHECK(strstr(cm_last_error(), "Sets: set 2/3: ") && strstr(cm_last_error(), "zz not in the store"));
            } else {
                CHECK(rc == CM_ERR_FORMAT);
                CHECK(strstr(cm_last_error(), "Sets: ") == cm_last_error() &&
                      strstr(cm_last_error(), "test.jsonl:4: invalid JSON"));
            }
            CHECK(!get(sc, "v_measure"));
            cJSON_Delete(sc);
        }
        free(rows);
        free(src);
        free(bad_dir);
    }

    /* the fast protocol, chosen by the run option over the task's "v1" */
    const cJSON *fs = get(expected, "clusters_fast_settings");
    snprintf(task, sizeof task, "{\"name\": \"SetsFast\", \"type\": \"Clustering\", \"data\": \"%s/clusters\", "
             "\"settings\": {\"protocol\": \"v1\", \"max_fraction_of_documents_to_embed\": %g, "
             "\"max_documents_per_cluster\": %d, \"n_bootstrap\": %d, \"fast_batch_size\": %d}}", dir,
             get(fs, "max_fraction_of_documents_to_embed")->valuedouble, get(fs, "max_documents_per_cluster")->valueint,
             get(fs, "n_bootstrap")->valueint, get(fs, "fast_batch_size")->valueint);
    scores = cJSON_CreateObject();
    CHECK_OK(run(emb, task, "fast", scores, NULL));
    want = get(expected, "clusters_fast");
    compare_lists("fast Level 0", get(get(scores, "v_measures"), "Level 0"), get(get(want, "v_measures"), "Level 0"));
    CHECK_NEAR(get(scores, "v_measure")->valuedouble, get(want, "v_measure")->valuedouble, 1e-9);
    CHECK_NEAR(get(scores, "v_measure_std")->valuedouble, get(want, "v_measure_std")->valuedouble, 1e-9);
    cJSON_Delete(scores);

    /* flat layout with label levels: fast works per level, v1 refuses */
    char *tmp = cm_path_join(check_env("CMTEB_TMP")[0] ? check_env("CMTEB_TMP") : "/tmp", "h3_clu_flat");
    cm_str flat = {0};
    for (int i = 0; i < 60; i++) {
        int t = i % 3;
        cm_str_printf(&flat, "{\"sentences\": \"s%d %s\", \"labels\": %s}\n", i,
                      t == 0 ? "sports" : t == 1 ? "cooking" : "space",
                      t == 0 ? "[\"a\", \"a1\"]" : t == 1 ? "[\"a\", \"a2\"]" : "[\"b\"]");
    }
    write_file(tmp, "test.jsonl", flat.s);
    cm_str_free(&flat);
    /* these texts are not in the precomputed set: use the hash model for them */
    cm_encoder *henc;
    cm_embedder *hemb;
    check_open_embedder("hash:32", &henc, &hemb);
    snprintf(task, sizeof task, "{\"name\": \"Flat\", \"type\": \"Clustering\", \"data\": \"%s\", \"settings\": "
             "{\"max_fraction_of_documents_to_embed\": null, \"max_documents_per_cluster\": 50, \"n_bootstrap\": 2}}", tmp);
    scores = cJSON_CreateObject();
    CHECK_OK(run(hemb, task, "fast", scores, NULL));
    const cJSON *vm = get(scores, "v_measures");
    CHECK(cJSON_GetArraySize(get(vm, "Level 0")) == 2 && cJSON_GetArraySize(get(vm, "Level 1")) == 2);
    cJSON_Delete(scores);
    scores = cJSON_CreateObject();
    CHECK(run(hemb, task, NULL, scores, NULL) == CM_ERR_FORMAT);
    CHECK(strstr(cm_last_error(), "--clustering-protocol fast") != NULL);
    cJSON_Delete(scores);
    /* bad rows */
    write_file(tmp, "test.jsonl", "{\"sentences\": [\"a\", \"b\"], \"labels\": [1, 2]}\n"
               "{\"sentences\": [\"a\", \"b\"], \"labels\": [1]}\n");
    scores = cJSON_CreateObject();
    CHECK(run(hemb, task, "v1", scores, NULL) == CM_ERR_FORMAT);
    CHECK(strstr(cm_last_error(), "test.jsonl:2") && strstr(cm_last_error(), "'labels'"));
    CHECK(run(hemb, task, "kmeans", scores, NULL) == CM_ERR_ARG);
    cJSON_Delete(scores);

    cm_embedder_free(hemb);
    cm_encoder_free(henc);
    free(tmp);
    cm_embedder_free(emb);
    cm_encoder_free(enc);
    cJSON_Delete(expected);
    free(text); free(exp_path); free(spec); free(dir);
    return check_report();
}
