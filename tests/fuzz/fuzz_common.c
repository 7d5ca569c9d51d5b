/* fuzz_common.c: implements fuzz_common.h (scratch files for the libFuzzer harnesses in tests/fuzz). */
#include "fuzz_common.h"

#include "cmteb/log.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir_[4096];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb; (void)flag; (void)ftw;
    remove(p);
    return 0;
}

static void cleanup(void) {
    if (dir_[0]) nftw(dir_, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fz_dir(void) {
    if (!dir_[0]) {
        const char *base = getenv("CMTEB_TMP");
        snprintf(dir_, sizeof dir_, "%s/fuzz-%ld", base && base[0] ? base : "/tmp", (long)getpid());
        if (cm_mkdir_p(dir_) != 0) { fprintf(stderr, "fuzz: cannot create %s\n", dir_); abort(); }
        atexit(cleanup);
        cm_log_set_sink(NULL, NULL);   /* library warnings would flood the fuzzer's output */
    }
    return dir_;
}

char *fz_path(char *buf, const char *rel) {
    snprintf(buf, 4096, "%s/%s", fz_dir(), rel);
    return buf;
}

void fz_write(const char *rel, const void *data, size_t size) {
    char p[4096];
    fz_path(p, rel);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    if (cm_mkdir_p(p) != 0) { fprintf(stderr, "fuzz: cannot create %s\n", p); abort(); }
    *slash = '/';
    FILE *f = fopen(p, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        fprintf(stderr, "fuzz: cannot write %s\n", p);
        abort();
    }
}

void fz_remove(const char *rel) {
    char p[4096];
    remove(fz_path(p, rel));
}

size_t fz_split(const uint8_t *data, size_t size, fz_part *parts, size_t max) {
    size_t n = 0, start = 0;
    for (size_t i = 0; i < size && n + 1 < max; i++) {
        if (data[i] == 0) {
            parts[n].data = data + start;
            parts[n++].size = i - start;
            start = i + 1;
        }
    }
    parts[n].data = data + start;
    parts[n++].size = size - start;
    return n;
}

void fz_write_parts(const uint8_t *data, size_t size, const char *const *files, size_t n) {
    fz_part parts[16];
    if (n > 16) abort();
    size_t k = fz_split(data, size, parts, n);
    for (size_t i = 0; i < n; i++) {
        if (i < k) fz_write(files[i], parts[i].data, parts[i].size);
        else fz_remove(files[i]);
    }
}

void fz_split_len(const uint8_t *data, size_t size, fz_part *parts, size_t n) {
    if (n == 0 || n > 16) abort();
    size_t hdr = 2 * (n - 1), pos = hdr < size ? hdr : size;
    for (size_t i = 0; i < n; i++) {
        size_t want = size - pos;
        if (i + 1 < n) {
            size_t w = 2 * i + 1 < size ? (size_t)data[2 * i] | (size_t)data[2 * i + 1] << 8 : 0;
            if (w < want) want = w;
        }
        parts[i].data = data + pos;
        parts[i].size = want;
        pos += want;
    }
}

int fz_debug_rc(int rc) {
    static int on = -1;
    if (on < 0) on = getenv("FZ_DEBUG") != NULL;
    if (on) fprintf(stderr, "fuzz: rc %d%s%s\n", rc, rc ? ": " : "", rc ? cm_last_error() : "");
    return rc;
}
