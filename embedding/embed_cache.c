/* embed_cache.c: the embedding cache on a vector store, and the one-time
 * import of format 1 segment files (formats in embed_cache.h). */
#include "embedding/embed_cache.h"
#include "cmteb/log.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEG_MAGIC "CMTBEMB1"
#define SEG_VERSION 1u
#define CACHE_FORMAT 2

struct cm_cache {
    char     *dir;
    size_t    dim;
    cm_store *store;
};

cm_cache_key cm_cache_make_key(int role, const char *instruction, const char *text) {
    return cm_store_key_text(role, instruction, text);
}

static size_t seg_bytes(size_t count, size_t dim) { return 24 + count * 16 + count * dim * 4 + 8; }

/* Copies one format 1 segment into the store (staged); *ok 0 when the file is
 * not a valid segment of this dim (warned about, left alone). */
static int import_segment(cm_cache *c, const char *path, int *ok) {
    *ok = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return cm_error(CM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < 32) {
        close(fd);
        cm_log(CM_LOG_WARN, "%s: not a cache segment (too short); ignored", path);
        return CM_OK;
    }
    size_t len = (size_t)st.st_size;
    void *base = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (base == MAP_FAILED) return cm_error(CM_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
    const unsigned char *p = base;
    uint32_t version, dim;
    uint64_t count, sum;
    memcpy(&version, p + 8, 4);
    memcpy(&dim, p + 12, 4);
    memcpy(&count, p + 16, 8);
    int valid = memcmp(p, SEG_MAGIC, 8) == 0 && version == SEG_VERSION && dim == c->dim &&
                count < (1ULL << 40) && seg_bytes((size_t)count, dim) == len;
    if (valid) {
        memcpy(&sum, p + len - 8, 8);
        valid = sum == cm_hash64(p, len - 8, 0);
    }
    int rc = CM_OK;
    if (!valid) cm_log(CM_LOG_WARN, "%s: damaged or foreign cache segment; ignored", path);
    float *v = valid ? cm_malloc(c->dim * sizeof *v + 1) : NULL;
    if (valid && !v) rc = CM_ERR_NOMEM;
    for (size_t i = 0; valid && !rc && i < count; i++) {
        cm_cache_key k;
        memcpy(&k.lo, p + 24 + 16 * i, 8);
        memcpy(&k.hi, p + 24 + 16 * i + 8, 8);
        memcpy(v, p + 24 + count * 16 + i * c->dim * 4, c->dim * 4);
        rc = cm_store_add(c->store, v, &k, 1, NULL);
    }
    free(v);
    munmap(base, len);
    *ok = valid && !rc;
    return rc;
}

static int is_segment_name(const char *n) {
    size_t l = strlen(n);
    return l > 8 && !strncmp(n, "seg-", 4) && !strcmp(n + l - 4, ".bin");
}

/* Imports the format 1 segments in c->dir, commits, then removes them. */
static int import_format1(cm_cache *c) {
    DIR *d = opendir(c->dir);
    if (!d) return cm_error(CM_ERR_IO, "%s: cannot list: %s", c->dir, strerror(errno));
    char **done = NULL;
    size_t n_done = 0, cap = 0;
    int rc = CM_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (!is_segment_name(e->d_name)) continue;
        char *p = cm_path_join(c->dir, e->d_name);
        int ok = 0;
        rc = p ? import_segment(c, p, &ok) : CM_ERR_NOMEM;
        if (!rc && ok && n_done == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nd = cm_realloc(done, nc * sizeof *nd);
            if (!nd) rc = CM_ERR_NOMEM;
            else { done = nd; cap = nc; }
        }
        if (!rc && ok) { done[n_done++] = p; p = NULL; }
        free(p);
    }
    closedir(d);
    if (!rc && n_done) rc = cm_store_commit(c->store);
    if (!rc && n_done) {
        for (size_t i = 0; i < n_done; i++) unlink(done[i]);
        cm_log(CM_LOG_INFO, "%s: moved %zu format-1 cache segment(s) into the vector store (%zu vectors)", c->dir,
               n_done, cm_store_rows(c->store));
    }
    for (size_t i = 0; i < n_done; i++) free(done[i]);
    free(done);
    return rc;
}

/* Checks meta.json against fingerprint and dim, or writes it. */
static int check_meta(const cm_cache *c, const char *fingerprint) {
    char *meta = cm_path_join(c->dir, "meta.json");
    if (!meta) return CM_ERR_NOMEM;
    int rc = CM_OK;
    if (cm_file_exists(meta)) {
        char *text = NULL;
        rc = cm_read_file(meta, &text, NULL);
        size_t failures = cm_alloc_failures();
        cJSON *m = rc ? NULL : cJSON_Parse(text);
        free(text);
        if (!rc && !m && cm_alloc_failures() != failures)
            rc = cm_error(CM_ERR_NOMEM, "%s: out of memory reading the cache's meta.json", meta);
        const cJSON *fp = cJSON_GetObjectItemCaseSensitive(m, "fingerprint");
        const cJSON *jd = cJSON_GetObjectItemCaseSensitive(m, "dim");
        if (!rc && (!cJSON_IsString(fp) || strcmp(fp->valuestring, fingerprint) || !cJSON_IsNumber(jd) ||
                    (size_t)jd->valuedouble != c->dim))
            rc = cm_error(CM_ERR_FORMAT, "%s: cache folder belongs to another model or dimension "
                          "(expected fingerprint %s, dim %zu); use another --cache-dir", meta, fingerprint, c->dim);
        cJSON_Delete(m);
    } else {
        size_t failures = cm_alloc_failures();   /* a failed cJSON_Add* drops the member */
        cJSON *m = cJSON_CreateObject();
        cJSON_AddNumberToObject(m, "format", CACHE_FORMAT);
        cJSON_AddStringToObject(m, "fingerprint", fingerprint);
        cJSON_AddNumberToObject(m, "dim", (double)c->dim);
        char *text = cm_alloc_failures() == failures ? cJSON_Print(m) : NULL;
        rc = text ? cm_write_file_atomic(meta, text, strlen(text))
                  : cm_error(CM_ERR_NOMEM, "%s: out of memory writing the cache's meta.json", meta);
        free(text);
        cJSON_Delete(m);
    }
    free(meta);
    return rc;
}

int cm_cache_open(cm_cache **out, const char *cache_dir, const char *fingerprint, size_t dim) {
    *out = NULL;
    char hex[17];
    cm_hex64(cm_hash64(fingerprint, strlen(fingerprint), 0xcac4e), hex);
    cm_cache *c = cm_calloc(1, sizeof *c);
    if (!c) return CM_ERR_NOMEM;
    c->dim = dim;
    c->dir = cm_asprintf("%s/%s", cache_dir, hex);
    int rc = c->dir ? cm_mkdir_p(c->dir) : CM_ERR_NOMEM;
    size_t stale = 0;   /* meta and store-head temporaries of runs killed with kill -9, any model's */
    if (!rc) rc = cm_remove_stale_temps(cache_dir, 2, &stale);
    if (stale) cm_log(CM_LOG_INFO, "%s: removed %zu temporary file(s) left by killed runs", cache_dir, stale);
    if (!rc) rc = check_meta(c, fingerprint);
    char *sdir = rc ? NULL : cm_path_join(c->dir, "store");
    if (!rc && !sdir) rc = CM_ERR_NOMEM;
    if (!rc) {
        cm_store_params p = cm_store_default_params();
        p.dim = dim;
        p.tag = fingerprint;
        p.writable = 1;
        rc = cm_store_open(&c->store, sdir, &p);
    }
    free(sdir);
    if (!rc) rc = import_format1(c);
    if (rc) { cm_cache_close(c); return rc; }
    *out = c;
    return CM_OK;
}

int cm_cache_get(const cm_cache *c, cm_cache_key key, float *out) {
    size_t row;
    if (!cm_store_find(c->store, key, &row)) return 0;
    CM_TRY(cm_store_read(c->store, row, 1, out));
    return 1;
}

int cm_cache_has(const cm_cache *c, cm_cache_key key) {
    size_t row;
    return cm_store_find(c->store, key, &row);
}

int cm_cache_put(cm_cache *c, cm_cache_key key, const float *vec) {
    return cm_store_add(c->store, vec, &key, 1, NULL);
}

int cm_cache_flush(cm_cache *c) {
    if (!c || !cm_store_staged(c->store)) return CM_OK;
    return cm_store_commit(c->store);
}

size_t cm_cache_size(const cm_cache *c) { return cm_store_rows(c->store) + cm_store_staged(c->store); }
size_t cm_cache_pending(const cm_cache *c) { return cm_store_staged(c->store); }

void cm_cache_close(cm_cache *c) {
    if (!c) return;
    cm_store_close(c->store);
    free(c->dir);
    free(c);
}
