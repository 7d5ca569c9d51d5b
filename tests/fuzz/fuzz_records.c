/*
 * fuzz_records.c: libFuzzer harness for the record readers (core/records.c)
 * and the gzip path under them. The first byte picks the file name's
 * extension (.jsonl, .json, .csv, .tsv, .jsonl.gz, .csv.gz); the rest is the
 * file, read to the end with cm_records_next and a field lookup per record.
 */
#include "fuzz_common.h"

#include "cmteb/records.h"
#include "cmteb/status.h"

static const char *const names[] = {"r.jsonl", "r.json", "r.csv", "r.tsv", "r.jsonl.gz", "r.csv.gz"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const char *name = names[data[0] % (sizeof names / sizeof *names)];
    fz_write(name, data + 1, size - 1);
    char path[4096];
    cm_records *r = NULL;
    if (cm_records_open(&r, fz_path(path, name)) == CM_OK) {
        cJSON *obj;
        for (int i = 0; i < 100000 && cm_records_next(r, &obj) == 1; i++) {
            const char *s = NULL;
            double v;
            (void)cm_rec_string(r, obj, "text", &s);
            (void)cm_rec_number(r, obj, "score", &v);
            (void)cm_records_line(r);
        }
    }
    cm_records_close(r);
    fz_remove(name);
    return 0;
}
