/*
 * test_npy_shapes.c: cm_npy_read_f32 (core/npy.c) refuses every shape that is
 * not 2-D with non-negative dims whose byte size matches the file: 3-D and
 * 1-D arrays, negative dims, dims whose product overflows, and data that is
 * shorter or longer than the shape says, each with an error naming the file
 * and the shape. Well-formed (n, d), (0, d) and float16 files still read.
 */
#include "check.h"

#include "cmteb/util.h"

#include <string.h>

static char tmp[4096];

/* Writes a v1.0 .npy with the given header dict and n data bytes (value 0). */
static void write_npy(const char *name, const char *dict, size_t n) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    FILE *f = fopen(path, "wb");
    if (!f) return;
    size_t hl = strlen(dict) + 1;
    size_t pad = (64 - (10 + hl) % 64) % 64;
    hl += pad;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hl & 0xff), (unsigned char)(hl >> 8)};
    fwrite(pre, 1, 10, f);
    fputs(dict, f);
    for (size_t i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
    for (size_t i = 0; i < n; i++) fputc(0, f);
    fclose(f);
}

/* Reading name fails with a message holding the file name and needle. */
static int refused(const char *name, const char *needle) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    float *x = NULL;
    size_t n = 0, d = 0;
    int rc = cm_npy_read_f32(path, &x, &n, &d);
    const char *msg = cm_last_error();
    int ok = rc != CM_OK && x == NULL && strstr(msg, name) && strstr(msg, needle);
    if (!ok) fprintf(stderr, "%s: rc %d n %zu d %zu, message '%s' (wanted '%s')\n", name, rc, n, d, msg, needle);
    free(x);
    return ok;
}

static int reads(const char *name, size_t en, size_t ed) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    float *x = NULL;
    size_t n = 99, d = 99;
    int rc = cm_npy_read_f32(path, &x, &n, &d);
    int ok = rc == CM_OK && n == en && d == ed;
    if (!ok) fprintf(stderr, "%s: rc %d n %zu d %zu: %s\n", name, rc, n, d, cm_last_error());
    free(x);
    return ok;
}

int main(void) {
    snprintf(tmp, sizeof tmp, "%s/npy_shapes", check_env("CMTEB_TMP")[0] ? check_env("CMTEB_TMP") : "/tmp");
    CHECK_OK(cm_mkdir_p(tmp));
    const char *f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': ";

    char dict[256];
    snprintf(dict, sizeof dict, "%s(6, 4), }", f4);
    write_npy("ok.npy", dict, 6 * 4 * 4);
    CHECK(reads("ok.npy", 6, 4));
    snprintf(dict, sizeof dict, "%s(0, 8), }", f4);
    write_npy("empty.npy", dict, 0);
    CHECK(reads("empty.npy", 0, 8));
    write_npy("half.npy", "{'descr': '<f2', 'fortran_order': False, 'shape': (3, 2), }", 3 * 2 * 2);
    CHECK(reads("half.npy", 3, 2));

    /* (6, 4, 2) used to read as (6, 4), ignoring the third dim */
    snprintf(dict, sizeof dict, "%s(6, 4, 2), }", f4);
    write_npy("three_d.npy", dict, 6 * 4 * 2 * 4);
    CHECK(refused("three_d.npy", "(6, 4, 2)"));
    snprintf(dict, sizeof dict, "%s(6,), }", f4);
    write_npy("one_d.npy", dict, 6 * 4);
    CHECK(refused("one_d.npy", "(6,)"));
    /* (-6, 8): %zu accepted the minus sign and wrapped to a huge row count */
    snprintf(dict, sizeof dict, "%s(-6, 8), }", f4);
    write_npy("negative.npy", dict, 48 * 4);
    CHECK(refused("negative.npy", "(-6, 8)"));
    /* 2^62 rows: rows * cols * 4 wraps, and the allocation used to be tried */
    snprintf(dict, sizeof dict, "%s(4611686018427387904, 8), }", f4);
    write_npy("huge.npy", dict, 64);
    CHECK(refused("huge.npy", "4611686018427387904"));
    snprintf(dict, sizeof dict, "%s(4611686018427387904, 4), }", f4);
    write_npy("wraps.npy", dict, 0);
    CHECK(refused("wraps.npy", "4611686018427387904"));
    /* byte size must match the file: short and long data */
    snprintf(dict, sizeof dict, "%s(6, 4), }", f4);
    write_npy("short.npy", dict, 6 * 4 * 4 - 4);
    CHECK(refused("short.npy", "(6, 4)"));
    write_npy("long.npy", dict, 7 * 4 * 4);
    CHECK(refused("long.npy", "(6, 4)"));
    write_npy("noshape.npy", "{'descr': '<f4', 'fortran_order': False, }", 16);
    CHECK(refused("noshape.npy", "shape"));
    return check_report();
}
