/*
 * check.h: the tiny test framework every tests/unit program uses.
 *
 * CHECK(cond) and CHECK_NEAR(a, b, tol) count failures and print file:line
 * with the values; CHECK_OK(expr) expects CM_OK and prints the last error.
 * SKIP(why) exits 77 (ctest marks the test skipped). check_report() prints
 * "N passed, N failed" and returns the exit status for main.
 */
#ifndef CMTEB_TEST_CHECK_H
#define CMTEB_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "cmteb/embedder.h"
#include "cmteb/encoder.h"
#include "cmteb/evaluator.h"
#include "cmteb/status.h"
#include "cmteb/task.h"
#include "cmteb/util.h"

static int check_passed_, check_failed_;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) check_passed_++;                                                   \
        else { check_failed_++; fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                        \
    do {                                                                             \
        double ca_ = (double)(a), cb_ = (double)(b);                                 \
        if (fabs(ca_ - cb_) <= (tol) || (isnan(ca_) && isnan(cb_))) check_passed_++; \
        else { check_failed_++; fprintf(stderr, "%s:%d: %s = %.10g, expected %s = %.10g (tol %g)\n", \
                                        __FILE__, __LINE__, #a, ca_, #b, cb_, (double)(tol)); } \
    } while (0)

#define CHECK_OK(expr)                                                               \
    do {                                                                             \
        int crc_ = (expr);                                                           \
        if (crc_ == CM_OK) check_passed_++;                                          \
        else { check_failed_++; fprintf(stderr, "%s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #expr, crc_, cm_last_error()); } \
    } while (0)

#define SKIP(why)                                                                    \
    do { printf("SKIP: %s\n", why); exit(77); } while (0)

static inline int check_report(void) {
    printf("%d passed, %d failed\n", check_passed_, check_failed_);
    return check_failed_ ? 1 : 0;
}

/* Parses a JSON file (gz-transparent); NULL when missing or invalid. Caller
 * frees with cJSON_Delete. */
static inline cJSON *check_load_json(const char *path) {
    char *text = NULL;
    if (cm_read_file(path, &text, NULL) != CM_OK) return NULL;
    cJSON *j = cJSON_Parse(text);
    free(text);
    return j;
}

/* A quiet encoder for spec and an embedder over it (no cache); both NULL on
 * failure (counted as a failed check). Caller frees both. */
static inline void check_open_embedder(const char *spec, cm_encoder **enc, cm_embedder **emb) {
    cm_encoder_params ep = cm_encoder_default_params();
    ep.quiet = 1;
    *enc = NULL;
    *emb = NULL;
    CHECK_OK(cm_encoder_init(enc, spec, &ep));
    cm_embedder_params bp = cm_embedder_default_params();
    bp.quiet = 1;
    if (*enc) CHECK_OK(cm_embedder_init(emb, *enc, &bp));
}

/* Runs evaluator fn on the task given as JSON text (a task-file entry) over
 * folder, embedding with a fresh quiet spec model; opts and items may be
 * NULL. Returns the scores (caller deletes), or NULL after a failed check. */
static inline cJSON *check_run_task(cm_evaluate_fn fn, const char *task_json, const char *spec, const char *folder,
                                    const cm_eval_options *opts, cJSON *items) {
    cJSON *tj = cJSON_Parse(task_json);
    cm_task *task = NULL;
    CHECK_OK(cm_task_from_json(&task, tj, NULL, "test"));
    cJSON_Delete(tj);
    cm_encoder *enc;
    cm_embedder *emb;
    check_open_embedder(spec, &enc, &emb);
    cJSON *scores = cJSON_CreateObject();
    cm_eval_ctx ctx = {emb, folder, 0, 1, opts, items};
    int rc = task && emb ? fn(task, &ctx, scores) : CM_ERR_ARG;
    CHECK_OK(rc);
    cm_embedder_free(emb);
    cm_encoder_free(enc);
    cm_task_free(task);
    if (rc) {
        cJSON_Delete(scores);
        return NULL;
    }
    return scores;
}

/* The environment ctest sets (CMTEB_SRC, CMTEB_SHARED, CMTEB_TMP, CMTEB_BIN). */
static inline const char *check_env(const char *name) {
    const char *v = getenv(name);
    return v ? v : "";
}

#endif
