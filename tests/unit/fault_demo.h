/*
 * fault_demo.h: what the run-level fault sweeps (test_fault_injection.c,
 * test_fault_shard.c) share: the demo tasks, one per evaluator type, the
 * hash model they run with, and the helpers that read the files a run left.
 * Include after check.h.
 */
#ifndef CMTEB_TEST_FAULT_DEMO_H
#define CMTEB_TEST_FAULT_DEMO_H

#include "cmteb/encoder.h"
#include "cmteb/task.h"
#include "cmteb/util.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static const char *demo_names[] = {"DemoSTS", "DemoClassification", "DemoClustering", "DemoPairClassification",
                                   "DemoReranking", "DemoRetrieval", "DemoSummarization"};
#define N_DEMO (sizeof demo_names / sizeof demo_names[0])

/* The catalog, the quiet hash:64 encoder and tasks[0..N_DEMO) (the demo tasks); 0 (checks failed) when one of
 * them could not be had. */
static inline int fault_demo_set_up(cm_catalog **cat, cm_encoder **enc, const cm_task **tasks) {
    CHECK_OK(cm_catalog_init(cat));
    cm_encoder_params ep = cm_encoder_default_params();
    ep.quiet = 1;
    if (*cat) CHECK_OK(cm_encoder_init(enc, "hash:64", &ep));
    if (!*enc) return 0;
    for (size_t i = 0; i < N_DEMO; i++) {
        tasks[i] = cm_catalog_find(*cat, demo_names[i]);
        CHECK(tasks[i] != NULL);
        if (!tasks[i]) return 0;
    }
    return 1;
}

/* Whether s ends with x. */
static inline int ends_with(const char *s, const char *x) {
    size_t ls = strlen(s), lx = strlen(x);
    return ls >= lx && !strcmp(s + ls - lx, x);
}

/* The JSON file at path, parsed (caller deletes), or NULL when it cannot be read or parsed. */
static inline cJSON *load_json(const char *path) {
    char *t = NULL;
    if (cm_read_file(path, &t, NULL)) return NULL;
    cJSON *j = cJSON_Parse(t);
    free(t);
    return j;
}

/* What of the file name (parsed: j) must match the clean run's: a result file's "scores" (its
 * evaluation_time differs), any other JSON file (model_meta.json, an items side file) whole. Borrowed from j. */
static inline const cJSON *compared_part(const char *name, const cJSON *j) {
    if (!strcmp(name, "model_meta.json") || ends_with(name, ".items.json")) return j;
    return cJSON_GetObjectItemCaseSensitive(j, "scores");
}

#endif
