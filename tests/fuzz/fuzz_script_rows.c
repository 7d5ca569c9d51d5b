/*
 * fuzz_script_rows.c: libFuzzer harness for the loading-script row readers
 * (datasets/formats/script_rows.c, cm_script_open). The first byte is a
 * control byte; its low two bits pick the reader:
 *   0: amazon_counterfactual: the rest is data/EN_train.tsv;
 *   1: massive: the rest is the member 1.0/data/en-US.jsonl of a tarball the
 *      harness writes (bit 2: gzip-compressed), read with the spec
 *      massive:en-US:PARTITION:KIND (bits 3-4: train, dev, test, or a
 *      partition no row has; bit 5: scenario instead of intent);
 *   2, 3: the rest (to its first NUL, at most 200 bytes) is the reader spec,
 *      over a small valid MASSIVE tarball.
 * Every record is read to the end (or the first error) and its fields looked up.
 */
#include "fuzz_common.h"

#include "cmteb/records.h"
#include "cmteb/status.h"
#include "datasets/formats/formats.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const partitions[] = {"train", "dev", "test", "nopart"};

/* Writes fz_dir()/rel as a tar (gzip-compressed when gz) with one member of size bytes; aborts on failure. */
static void write_tar(const char *rel, const char *member, const uint8_t *data, size_t size, int gz) {
    char path[4096];
    fz_write(rel, "", 0);   /* creates the folder */
    struct archive *a = archive_write_new();
    if (!a || archive_write_set_format_ustar(a) != ARCHIVE_OK ||
        (gz && archive_write_add_filter_gzip(a) != ARCHIVE_OK) ||
        archive_write_open_filename(a, fz_path(path, rel)) != ARCHIVE_OK)
        abort();
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, member);
    archive_entry_set_size(e, (la_int64_t)size);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    if (archive_write_header(a, e) != ARCHIVE_OK || (size && archive_write_data(a, data, size) != (la_ssize_t)size))
        abort();
    archive_entry_free(e);
    if (archive_write_close(a) != ARCHIVE_OK) abort();
    archive_write_free(a);
}

static void drain(cm_records *r) {
    cJSON *obj;
    for (int i = 0; i < 100000 && cm_records_next(r, &obj) == 1; i++) {
        const char *s = NULL;
        double v;
        (void)cm_rec_string(r, obj, "text", &s);
        (void)cm_rec_number(r, obj, "label", &v);
        (void)cm_rec_string(r, obj, "label_text", &s);
        (void)cm_records_line(r);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t ctl = data[0];
    const uint8_t *rest = data + 1;
    size_t n = size - 1;
    char path[4096], spec[256];
    const char *rel;
    if ((ctl & 3) == 0) {
        rel = "cf/data/EN_train.tsv";
        fz_write(rel, rest, n);
        snprintf(spec, sizeof spec, "amazon_counterfactual");
    } else if ((ctl & 3) == 1) {
        rel = ctl & 4 ? "mv/massive.tar.gz" : "mv/massive.tar";
        write_tar(rel, "1.0/data/en-US.jsonl", rest, n, ctl & 4);
        snprintf(spec, sizeof spec, "massive:en-US:%s:%s", partitions[(ctl >> 3) & 3],
                 ctl & 32 ? "scenario" : "intent");
    } else {
        static const char jsonl[] =
            "{\"id\": \"0\", \"partition\": \"test\", \"scenario\": \"alarm\", \"intent\": \"alarm_set\", "
            "\"utt\": \"wake me up\"}\n";
        rel = "mv/fixed.tar";
        write_tar(rel, "1.0/data/en-US.jsonl", (const uint8_t *)jsonl, sizeof jsonl - 1, 0);
        size_t k = 0;
        while (k < n && k < 200 && rest[k]) k++;
        memcpy(spec, rest, k);
        spec[k] = '\0';
    }
    cm_records *r = NULL;
    if (fz_debug_rc(cm_script_open(&r, fz_path(path, rel), spec)) == CM_OK) drain(r);
    else if (r) abort();   /* an error leaves no reader behind */
    cm_records_close(r);
    fz_remove(rel);
    return 0;
}
