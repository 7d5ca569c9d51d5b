/*
 * bench_records.c: throughput of the streaming record readers (dataset.h).
 * Reads every record of each file given and touches one string field, the
 * way a loader does; prints records, seconds and MB/s per file.
 * Built and run side by side with Python's json/csv modules by
 * bench/bench_records.sh (see bench/RESULTS.md, "Record readers").
 *
 * usage: bench_records FIELD FILE...
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmteb/records.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_records FIELD FILE...\n");
        return 2;
    }
    const char *field = argv[1];
    for (int i = 2; i < argc; i++) {
        double t0 = cm_now();
        cm_records *r;
        if (cm_records_open(&r, argv[i])) { fprintf(stderr, "%s\n", cm_last_error()); return 1; }
        cJSON *o;
        size_t n = 0, chars = 0;
        int got;
        while ((got = cm_records_next(r, &o)) == 1) {
            const char *s;
            if (cm_rec_string(r, o, field, &s)) { fprintf(stderr, "%s\n", cm_last_error()); return 1; }
            chars += strlen(s);
            n++;
        }
        cm_records_close(r);
        if (got < 0) { fprintf(stderr, "%s\n", cm_last_error()); return 1; }
        double dt = cm_now() - t0;
        struct stat st;
        double mb = stat(argv[i], &st) == 0 ? (double)st.st_size / 1e6 : 0;
        printf("C       %-40s %9zu records %12zu chars %7.3f s %7.1f MB/s (on-disk)\n", argv[i], n, chars, dt, mb / dt);
    }
    return 0;
}
