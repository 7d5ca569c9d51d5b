/*
 * test_results_write.c: a result file is written whole or not at all when an
 * allocation fails while it is built or rendered (reports/results_write.c).
 *
 * A clean cm_results_write_task / cm_results_write_model_meta call is counted
 * (allocations through the hook of core/util.c), then repeated with
 * allocation k failing, for every k: each call either fails and leaves no
 * file, or succeeds with a file byte-identical to the clean one. Before
 * write_json checked cm_str_error, a failed append mid-render wrote the
 * rendered prefix (a truncated JSON file) and reported success.
 */
#include "check.h"
#include "fault.h"
#include "cmteb/results.h"

#include <ftw.h>
#include <string.h>
#include <unistd.h>


static char *slurp(const char *path) {
    char *t = NULL;
    return cm_read_file(path, &t, NULL) == CM_OK ? t : NULL;
}

/* The scores are long enough that rendering reallocates the buffer several times. */
static cJSON *make_scores(void) {
    cJSON *s = cJSON_CreateObject();
    cJSON_AddNumberToObject(s, "main_score", 0.8125);
    for (int i = 0; i < 40; i++) {
        char k[32];
        snprintf(k, sizeof k, "metric_with_a_long_name_%02d", i);
        cJSON_AddNumberToObject(s, k, 1.0 / (i + 3));
    }
    return s;
}

typedef int (*write_fn)(const char *dir, const cm_task *t, const cJSON *scores);

static cJSON *prov;   /* built before arming: only the writer's allocations fail */

static int write_task(const char *dir, const cm_task *t, const cJSON *scores) {
    return cm_results_write_task(dir, t, scores, 1.5, prov, NULL);
}

static int write_meta(const char *dir, const cm_task *t, const cJSON *scores) {
    (void)t; (void)scores;
    cm_encoder_info info = {0};
    info.name = "org/model";
    info.revision = "rev";
    info.dim = 64;
    info.max_tokens = -1;
    info.n_parameters = -1;
    info.loader = "hash";
    return cm_results_write_model_meta(dir, &info, NULL);
}

/* Every k from 1 to the clean call's allocation count fails in turn. */
static void sweep(const char *name, write_fn fn, const char *dir, const char *file, const cm_task *t,
                  const cJSON *scores) {
    char *path = cm_path_join(dir, file);
    fault_rm_rf(dir);
    fault_arm(0);
    int rc = fn(dir, t, scores);
    fault_disarm();
    CHECK_OK(rc);
    long clean = fault_allocs;
    char *want = slurp(path);
    CHECK(want && clean > 0);
    size_t failed_calls = 0, bad = 0;
    for (long k = 1; want && k <= clean; k++) {
        fault_rm_rf(dir);
        fault_arm(k);
        rc = fn(dir, t, scores);
        fault_disarm();
        char *got = slurp(path);
        if (rc) {
            failed_calls++;
            if (got) { bad++; fprintf(stderr, "%s: k=%ld: call failed but %s exists:\n%s\n", name, k, file, got); }
        } else if (!got || strcmp(got, want)) {
            bad++;
            fprintf(stderr, "%s: k=%ld: call succeeded, %s %s%s\n", name, k, file, got ? "differs:\n" : "missing",
                    got ? got : "");
        }
        free(got);
    }
    CHECK(bad == 0);
    CHECK(failed_calls > 0);
    printf("%s: %ld allocations in a clean call; each failed in turn: %zu calls failed, %zu wrong files\n", name,
           clean, failed_calls, bad);
    free(want);
    free(path);
}

int main(void) {
    char *dir = cm_asprintf("%s/results_write.%d", check_env("CMTEB_TMP"), (int)getpid());
    cJSON *tj = cJSON_Parse("{\"name\": \"DemoSTS\", \"type\": \"STS\", \"dataset\": {\"path\": \"sts\", "
                            "\"revision\": \"r1\"}, \"split\": \"test\", \"main_score\": \"cosine_spearman\"}");
    cm_task *t = NULL;
    CHECK_OK(cm_task_from_json(&t, tj, NULL, "test"));
    cJSON_Delete(tj);
    cJSON *scores = make_scores();
    prov = cJSON_CreateObject();
    cJSON_AddStringToObject(prov, "version", "test");
    if (t && dir) {
        sweep("task", write_task, dir, "DemoSTS.json", t, scores);
        sweep("model_meta", write_meta, dir, "model_meta.json", t, scores);
        fault_rm_rf(dir);
    }
    cJSON_Delete(scores);
    cJSON_Delete(prov);
    cm_task_free(t);
    free(dir);
    return check_report();
}
