/*
 * fuzz_results.c: libFuzzer harness for reading results back
 * (reports/results_read.c, cm_model_results_load): the input is NUL-separated
 * into a task file STSBenchmark.json (a catalog task, so its catalog spec is
 * used), an optional model_meta.json and an optional Other.json (a task the
 * catalog lacks), in one results folder.
 */
#include "fuzz_common.h"

#include "cmteb/results_read.h"
#include "cmteb/status.h"
#include "cmteb/task.h"

#include <stdlib.h>

static const char *const files[] = {"res/STSBenchmark.json", "res/model_meta.json", "res/Other.json"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static cm_catalog *cat;
    if (!cat && cm_catalog_init(&cat) != CM_OK) abort();
    fz_write_parts(data, size, files, sizeof files / sizeof *files);
    char dir[4096];
    cm_model_results *m = NULL;
    if (cm_model_results_load(&m, fz_path(dir, "res"), cat) == CM_OK) {
        (void)cm_model_results_get(m, "stsbenchmark");
        (void)cm_model_results_get(m, "Other");
    }
    cm_model_results_free(m);
    char **folders = NULL;
    size_t nf = 0;
    if (cm_results_find_models(dir, &folders, &nf) == CM_OK) cm_results_free_folders(folders, nf);
    return 0;
}
