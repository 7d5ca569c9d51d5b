/*
 * fuzz_safetensors.c: libFuzzer harness for the safetensors reader
 * (engine/nn/safetensors.c): the input is model.safetensors in a model
 * folder; cm_st_open validates it, then every float tensor is converted.
 */
#include "fuzz_common.h"

#include "cmteb/status.h"
#include "engine/nn/safetensors.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_write("st/model.safetensors", data, size);
    char dir[4096];
    cm_safetensors *st = NULL;
    if (cm_st_open(&st, fz_path(dir, "st")) == CM_OK) {
        (void)cm_st_metadata(st, "format");
        for (size_t i = 0; i < cm_st_count(st); i++) {
            const cm_st_tensor *t = cm_st_at(st, i);
            (void)cm_st_find(st, t->name);
            float *x = NULL;
            if (cm_st_to_f32(t, &x) == CM_OK) free(x);
        }
    }
    cm_st_free(st);
    return 0;
}
