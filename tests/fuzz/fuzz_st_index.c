/*
 * fuzz_st_index.c: libFuzzer harness for the sharded safetensors reader
 * (engine/nn/safetensors.c: cm_st_open on a folder with
 * model.safetensors.index.json, open_index). The input is split by length
 * (fz_split_len, two uint16 lengths first) into the index JSON and two shard
 * files, written as model-1.safetensors and model-2.safetensors (the names
 * the seeds' weight_map uses); then every tensor is converted to float32.
 */
#include "fuzz_common.h"

#include "cmteb/status.h"
#include "engine/nn/safetensors.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_part p[3];
    fz_split_len(data, size, p, 3);
    fz_write("sti/model.safetensors.index.json", p[0].data, p[0].size);
    fz_write("sti/model-1.safetensors", p[1].data, p[1].size);
    fz_write("sti/model-2.safetensors", p[2].data, p[2].size);
    char dir[4096];
    cm_safetensors *st = NULL;
    if (fz_debug_rc(cm_st_open(&st, fz_path(dir, "sti"))) == CM_OK) {
        (void)cm_st_metadata(st, "format");
        (void)cm_st_data_bytes(st);
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
