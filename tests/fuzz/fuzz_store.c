/*
 * fuzz_store.c: libFuzzer harness for the vector store's reader
 * (engine/store/store.c: cm_store_open read-only, cm_store_find,
 * cm_store_read; format in engine/include/cmteb/store.h). The input is a
 * control byte, then four parts split by length (fz_split_len): head,
 * keys.bin, index-G.bin (G read from head's index_gen field) and rows.bin.
 * Control bit 0: head's tag_len and trailing checksum are made consistent
 * with its size first; bit 1: the index header's checksum is recomputed; so
 * the fuzzer gets past both to the index, key log and rows.
 */
#include "fuzz_common.h"

#include "cmteb/status.h"
#include "cmteb/store.h"
#include "cmteb/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Looks key up and, when found, reads its row (dim floats into v). */
static void probe(const cm_store *s, cm_store_key k, float *v) {
    size_t row = 0;
    if (cm_store_find(s, k, &row) == 1 && cm_store_read(s, row, 1, v) == CM_OK) {
        volatile float sink = v[0];
        (void)sink;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char last_index[64];
    if (size < 1) return 0;
    int ctrl = data[0];
    fz_part p[4];
    fz_split_len(data + 1, size - 1, p, 4);
    uint8_t *head = malloc(p[0].size + 1), *idx = malloc(p[2].size + 1);
    if (!head || !idx) { free(head); free(idx); return 0; }
    memcpy(head, p[0].data, p[0].size);
    memcpy(idx, p[2].data, p[2].size);
    if ((ctrl & 1) && p[0].size >= 72) {
        uint64_t tl = p[0].size - 72, sum;
        memcpy(head + 56, &tl, 8);
        sum = cm_hash64(head, p[0].size - 8, 0);
        memcpy(head + p[0].size - 8, &sum, 8);
    }
    if ((ctrl & 2) && p[2].size >= 40) {
        uint64_t sum = cm_hash64(idx, 32, 0);
        memcpy(idx + 32, &sum, 8);
    }
    if (last_index[0]) fz_remove(last_index);
    snprintf(last_index, sizeof last_index, "st/index-%llu.bin",
             (unsigned long long)(p[0].size >= 48 ? rd64(head + 40) : 0));
    fz_write("st/head", head, p[0].size);
    fz_write("st/keys.bin", p[1].data, p[1].size);
    fz_write(last_index, idx, p[2].size);
    fz_write("st/rows.bin", p[3].data, p[3].size);

    char dir[4096];
    cm_store *s = NULL;
    if (fz_debug_rc(cm_store_open(&s, fz_path(dir, "st"), NULL)) == CM_OK) {
        size_t dim = cm_store_dim(s), n = cm_store_rows(s);
        (void)cm_store_keys(s);
        (void)cm_store_tag(s);
        float *v = malloc(dim * sizeof *v * 16);
        if (v) {
            for (size_t i = 0; i < 4 && (i + 1) * 24 <= p[1].size; i++) {   /* keys from the log */
                cm_store_key k = {rd64(p[1].data + 24 * i), rd64(p[1].data + 24 * i + 8)};
                probe(s, k, v);
            }
            for (size_t i = 0; i < 4 && 64 + (i + 1) * 24 <= p[2].size; i++) {   /* keys from the index slots */
                cm_store_key k = {rd64(idx + 64 + 24 * i), rd64(idx + 64 + 24 * i + 8)};
                probe(s, k, v);
            }
            probe(s, cm_store_key_text(0, NULL, "hello"), v);   /* most likely absent */
            for (size_t r = 0; r < n; r += 16) {   /* every row (rows.bin holds them: checked on open) */
                size_t m = n - r < 16 ? n - r : 16;
                if (cm_store_read(s, r, m, v) != CM_OK) break;
            }
            (void)cm_store_read(s, n, 1, v);   /* past the end: an error */
        }
        free(v);
    }
    cm_store_close(s);
    free(head);
    free(idx);
    return 0;
}
