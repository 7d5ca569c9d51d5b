/*
 * fuzz_shard.c: libFuzzer harness for the shard hits reader and merge
 * (tasks/retrieval/shard.c: cm_shard_hits_read; format in
 * tasks/retrieval/shard.h). The input is a control byte, then one or two hits
 * files split at the first NUL. Control bit 0: two files (else only the
 * first); bits 1-2: the number of task queries nq (0..3, ids q1 q2 q3);
 * bits 3-5: top_k - 1 (top_k 1..8).
 */
#include "fuzz_common.h"

#include "cmteb/status.h"
#include "tasks/retrieval/shard.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const qids[] = {"q1", "q2", "q3"};
    static const char *const files[] = {"h/0.hits", "h/1.hits"};
    if (size < 1) return 0;
    int ctrl = data[0];
    size_t n_paths = (ctrl & 1) ? 2 : 1, nq = (size_t)(ctrl >> 1) & 3, top_k = 1 + ((size_t)(ctrl >> 3) & 7);
    fz_write_parts(data + 1, size - 1, files, n_paths);
    char p0[4096], p1[4096];
    const char *paths[2] = {fz_path(p0, files[0]), fz_path(p1, files[1])};
    cm_shard_hits *h = NULL;
    if (fz_debug_rc(cm_shard_hits_read(&h, paths, n_paths, qids, nq, top_k)) == CM_OK) {
        for (size_t q = 0; q < nq; q++) {
            const char *const *ids = NULL;
            const float *scores = NULL;
            size_t n = cm_shard_hits_get(h, q, &ids, &scores);
            volatile size_t sink = 0;
            for (size_t i = 0; i < n; i++) sink += strlen(ids[i]) + (scores[i] > 0);
            (void)sink;
        }
    }
    cm_shard_hits_free(h);
    return 0;
}
