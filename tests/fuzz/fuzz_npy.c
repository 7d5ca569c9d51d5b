/* fuzz_npy.c: libFuzzer harness for the .npy reader (core/npy.c, cm_npy_read_f32): the input is the file. */
#include "fuzz_common.h"

#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_write("x.npy", data, size);
    char path[4096];
    float *x = NULL;
    size_t n = 0, d = 0;
    if (cm_npy_read_f32(fz_path(path, "x.npy"), &x, &n, &d) == CM_OK) {
        volatile float sink = 0;
        for (size_t i = 0; i < n * d; i++) sink += x[i];   /* every element must be readable */
        (void)sink;
    }
    free(x);
    return 0;
}
