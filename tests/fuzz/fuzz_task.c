/*
 * fuzz_task.c: libFuzzer harness for task files (datasets/task.c and the
 * typed settings, cm_catalog_add_file): the input is a task file added to a
 * fresh built-in catalog, whose tasks are then looked up and their data
 * folders resolved.
 */
#include "fuzz_common.h"

#include "cmteb/status.h"
#include "cmteb/task.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_write("tasks.json", data, size);
    cm_catalog *c = NULL;
    if (cm_catalog_init(&c) != CM_OK) abort();
    size_t before = cm_catalog_count(c);
    char path[4096];
    if (cm_catalog_add_file(c, fz_path(path, "tasks.json")) == CM_OK) {
        for (size_t i = before; i < cm_catalog_count(c); i++) {
            const cm_task *t = cm_catalog_get(c, i);
            (void)cm_catalog_find(c, t->name);
            free(cm_task_data_folder(t, NULL));
        }
    }
    cm_catalog_free(c);
    return 0;
}
