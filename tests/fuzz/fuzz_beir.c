/*
 * fuzz_beir.c: libFuzzer harness for the retrieval (BEIR layout) loaders
 * (datasets/retrieval_data.c): the input is NUL-separated into qrels/test.tsv,
 * queries.jsonl and corpus.jsonl of one data folder, loaded with
 * cm_retrieval_data_load and the corpus streamed with cm_corpus_next.
 */
#include "fuzz_common.h"

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
    cm_corpus_reader *r = NULL;
    if (cm_corpus_open(&r, fz_path(path, "beir/corpus.jsonl")) == CM_OK) {
        const char *const *ids, *const *texts;
        size_t got = 0;
        for (int i = 0; i < 10000 && cm_corpus_next(r, 3, &ids, &texts, &got) == CM_OK && got > 0; i++) {}
    }
    cm_corpus_close(r);
    size_t count = 0;
    (void)cm_corpus_count_file(path, &count);
    return 0;
}
