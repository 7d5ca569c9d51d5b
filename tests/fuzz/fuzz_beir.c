/*
 * fuzz_beir.c: libFuzzer harness for the retrieval (BEIR layout) loaders
 * (datasets/retrieval_data.c): the input is NUL-separated into qrels/test.tsv,
 * queries.jsonl and corpus.jsonl of one data folder, loaded with
 * cm_retrieval_data_load and the corpus streamed with cm_corpus_next, with
 * and without read-ahead (the two must agree: documents and final status).
 */
#include "fuzz_common.h"

#include <stdint.h>
#include <stdlib.h>

#include "cmteb/status.h"
#include "datasets/retrieval_data.h"

static const char *const files[] = {"beir/qrels/test.tsv", "beir/queries.jsonl", "beir/corpus.jsonl"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_write_parts(data, size, files, sizeof files / sizeof *files);
    char dir[4096];
    cm_retrieval_data *d = NULL;
    (void)cm_retrieval_data_load(&d, fz_path(dir, "beir"), "test");
    cm_retrieval_data_free(d);
    char path[4096];
    fz_path(path, "beir/corpus.jsonl");
    /* streamed with and without read-ahead: the same documents (count and a checksum of ids and texts) and the
     * same final status, or the harness aborts */
    size_t docs[2] = {0, 0};
    uint64_t sum[2] = {0, 0};
    int last[2] = {0, 0};
    for (int mode = 0; mode < 2; mode++) {
        cm_corpus_params cp = cm_corpus_default_params();
        cp.read_ahead = mode;
        cm_corpus_reader *r = NULL;
        last[mode] = cm_corpus_open(&r, path, &cp);
        if (last[mode] == CM_OK) {
            const char *const *ids, *const *texts;
            size_t got = 0;
            for (int i = 0; i < 10000; i++) {
                last[mode] = cm_corpus_next(r, 3, &ids, &texts, &got);
                if (last[mode] != CM_OK || got == 0) break;
                for (size_t j = 0; j < got; j++) {
                    for (const char *c = ids[j]; *c; c++) sum[mode] = sum[mode] * 31 + (unsigned char)*c;
                    for (const char *c = texts[j]; *c; c++) sum[mode] = sum[mode] * 131 + (unsigned char)*c;
                }
                docs[mode] += got;
            }
        }
        cm_corpus_close(r);
    }
    if (docs[0] != docs[1] || sum[0] != sum[1] || last[0] != last[1]) abort();
    size_t count = 0;
    (void)cm_corpus_count_file(path, &count);
    return 0;
}
