/*
 * fuzz_embed_cache.c: libFuzzer harness for the embedding cache's segment
 * reader (embedding/embed_cache.c: format 1 segments imported into the
 * vector store by cm_cache_open; formats in embedding/embed_cache.h). The input is a control byte, then one segment
 * file of a dim-4 cache. When the control byte is odd the segment's trailing
 * checksum is recomputed first, so the fuzzer gets past it to the index.
 */
#include "fuzz_common.h"

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "embedding/embed_cache.h"

#include <stdlib.h>
#include <string.h>

#define FINGERPRINT "fuzz"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char seg[64];
    if (!seg[0]) {
        char hex[17];
        cm_hex64(cm_hash64(FINGERPRINT, strlen(FINGERPRINT), 0xcac4e), hex);   /* cm_cache_open's folder */
        snprintf(seg, sizeof seg, "cache/%s/seg-0000000000000000.bin", hex);
    }
    if (size < 1) return 0;
    int fix = data[0] & 1;
    data++;
    size--;
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    if (size >= 8 && fix) {
        uint64_t sum = cm_hash64(copy, size - 8, 0);
        memcpy(copy + size - 8, &sum, 8);
    }
    fz_write(seg, copy, size);
    free(copy);
    char dir[4096];
    cm_cache *c = NULL;
    if (cm_cache_open(&c, fz_path(dir, "cache"), FINGERPRINT, 4) == CM_OK) {
        (void)cm_cache_size(c);
        float v[4];
        if (cm_cache_get(c, cm_cache_make_key(0, NULL, "hello"), v) == 1) { volatile float s = v[0] + v[3]; (void)s; }
        cm_cache_key k = {0, 0};
        if (cm_cache_get(c, k, v) == 1) { volatile float s = v[0] + v[3]; (void)s; }
    }
    cm_cache_close(c);
    return 0;
}
