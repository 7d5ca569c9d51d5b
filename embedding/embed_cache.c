/* embed_cache.c: the segment-file embedding cache (format in embed_cache.h). */
#include "embedding/embed_cache.h"
#include "cmteb/array.h"
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
#define MAX_SEGMENTS 64

typedef struct { void *base; size_t len; char *path; } segment;

typedef struct { cm_cache_key key; const float *vec; } slot;

struct cm_cache {
    char    *dir;
    size_t   dim;
    segment *segs;
    size_t   n_segs, cap_segs;
    slot    *tab;           /* open addressing, power-of-two capacity (128-bit keys, walked by compact: no cm_strmap) */
    size_t   cap, count;
    /* pending (not yet on disk) */
    cm_cache_key *pkeys;
    float        *pvecs;
    size_t        n_pending, cap_pending;
};

cm_cache_key cm_cache_make_key(int role, const char *instruction, const char *text) {
    /* role byte, instruction, a 0 separator, text: distinct inputs, distinct bytes */
    size_t li = instruction ? strlen(instruction) : 0, lt = strlen(text);
    uint64_t h1 = cm_hash64(text, lt, 0x51ULL + (uint64_t)role);
    uint64_t h2 = cm_hash64(text, lt, 0xa7ULL + (uint64_t)role * 7919);
    uint64_t i1 = li ? cm_hash64(instruction, li, 0x3bULL) : 0x1234;
    uint64_t i2 = li ? cm_hash64(instruction, li, 0x9dULL) : 0x5678;
    cm_cache_key k;
    k.lo = h1 ^ (i1 * 0x9e3779b97f4a7c15ULL);
    k.hi = h2 ^ (i2 * 0xc2b2ae3d27d4eb4fULL) ^ ((uint64_t)lt << 1);
    return k;
}

static size_t slot_of(const cm_cache *c, cm_cache_key k) {
    size_t i = (size_t)(k.lo ^ (k.hi >> 7)) & (c->cap - 1);
    while (c->tab[i].vec && (c->tab[i].key.lo != k.lo || c->tab[i].key.hi != k.hi)) i = (i + 1) & (c->cap - 1);
    return i;
}

static int tab_grow(cm_cache *c) {
    size_t cap = c->cap ? c->cap * 2 : 1024;
    slot *old = c->tab;
    size_t oldcap = c->cap;
    c->tab = cm_calloc(cap, sizeof *c->tab);
    if (!c->tab) { c->tab = old; return CM_ERR_NOMEM; }
    c->cap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].vec) c->tab[slot_of(c, old[i].key)] = old[i];
    free(old);
    return CM_OK;
}

static int tab_insert(cm_cache *c, cm_cache_key k, const float *vec) {
    if ((c->count + 1) * 2 > c->cap) CM_TRY(tab_grow(c));
    size_t i = slot_of(c, k);
    if (!c->tab[i].vec) c->count++;
    c->tab[i].key = k;
    c->tab[i].vec = vec;
    return CM_OK;
}

const float *cm_cache_get(const cm_cache *c, cm_cache_key key) {
    if (!c->cap) return NULL;
    return c->tab[slot_of(c, key)].vec;
}

static size_t seg_bytes(size_t count, size_t dim) { return 24 + count * 16 + count * dim * 4 + 8; }

/* Maps and indexes one segment file; a bad file is skipped with a warning. */
static int load_segment(cm_cache *c, const char *path) {
    int fd = open(path, O_RDONLY);
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
    int ok = memcmp(p, SEG_MAGIC, 8) == 0 && version == SEG_VERSION && dim == c->dim &&
             count < (1ULL << 40) && seg_bytes((size_t)count, dim) == len;
    if (ok) {
        memcpy(&sum, p + len - 8, 8);
        ok = sum == cm_hash64(p, len - 8, 0);
    }
    if (!ok) {
        munmap(base, len);
        cm_log(CM_LOG_WARN, "%s: damaged or foreign cache segment; ignored", path);
        return CM_OK;
    }
    if (cm_array_reserve(c->segs, c->cap_segs, c->n_segs + 1)) { munmap(base, len); return CM_ERR_NOMEM; }
    c->segs[c->n_segs].base = base;
    c->segs[c->n_segs].len = len;
    if (!(c->segs[c->n_segs].path = cm_strdup(path))) { munmap(base, len); return CM_ERR_NOMEM; }
    c->n_segs++;
    const unsigned char *keys = p + 24;
    const float *vecs = (const float *)(p + 24 + count * 16);   /* 8-byte aligned: 24 + 16n */
    for (size_t i = 0; i < count; i++) {
        cm_cache_key k;
        memcpy(&k.lo, keys + 16 * i, 8);
        memcpy(&k.hi, keys + 16 * i + 8, 8);
        CM_TRY(tab_insert(c, k, vecs + i * c->dim));
    }
    return CM_OK;
}

/* Writes keys/vecs as a new segment atomically; returns its path in *out_path if wanted. */
static int write_segment(const cm_cache *c, const cm_cache_key *keys, const float *const *vecs, size_t n,
                         char **out_path) {
    size_t len = seg_bytes(n, c->dim);
    unsigned char *buf = cm_malloc(len);
    if (!buf) return CM_ERR_NOMEM;
    uint32_t version = SEG_VERSION, dim = (uint32_t)c->dim;
    uint64_t count = n;
    memcpy(buf, SEG_MAGIC, 8);
    memcpy(buf + 8, &version, 4);
    memcpy(buf + 12, &dim, 4);
    memcpy(buf + 16, &count, 8);
    for (size_t i = 0; i < n; i++) {
        memcpy(buf + 24 + 16 * i, &keys[i].lo, 8);
        memcpy(buf + 24 + 16 * i + 8, &keys[i].hi, 8);
        memcpy(buf + 24 + 16 * n + i * c->dim * 4, vecs[i], c->dim * 4);
    }
    uint64_t sum = cm_hash64(buf, len - 8, 0);
    memcpy(buf + len - 8, &sum, 8);
    char hex[17];
    cm_hex64(cm_hash64(buf, len, (uint64_t)getpid()) ^ (uint64_t)(cm_now() * 1e9), hex);
    char *path = cm_asprintf("%s/seg-%s.bin", c->dir, hex);
    int rc = path ? cm_write_file_atomic(path, buf, len) : CM_ERR_NOMEM;
    free(buf);
    if (!rc && out_path) *out_path = path;
    else free(path);
    return rc;
}

static int is_segment_name(const char *n) {
    size_t l = strlen(n);
    return l > 8 && !strncmp(n, "seg-", 4) && !strcmp(n + l - 4, ".bin");
}

/* Merges all loaded segments into one, then removes the old files. */
static int compact(cm_cache *c) {
    size_t n = c->count, k = 0;
    cm_cache_key *keys = cm_malloc(n * sizeof *keys);
    const float **vecs = cm_malloc(n * sizeof *vecs);
    if (!keys || !vecs) { free(keys); free(vecs); return CM_ERR_NOMEM; }
    for (size_t i = 0; i < c->cap; i++)
        if (c->tab[i].vec) { keys[k] = c->tab[i].key; vecs[k] = c->tab[i].vec; k++; }
    char *newpath = NULL;
    int rc = write_segment(c, keys, vecs, k, &newpath);
    free(keys);
    free(vecs);
    if (rc) return rc;
    /* drop the old segments, then reload the merged one */
    for (size_t i = 0; i < c->n_segs; i++) {
        munmap(c->segs[i].base, c->segs[i].len);
        unlink(c->segs[i].path);
        free(c->segs[i].path);
    }
    free(c->segs);
    c->segs = NULL;
    c->n_segs = c->cap_segs = 0;
    memset(c->tab, 0, c->cap * sizeof *c->tab);
    c->count = 0;
    rc = load_segment(c, newpath);
    free(newpath);
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
    size_t stale = 0;   /* segment and meta temporaries of runs killed with kill -9, any model's */
    if (!rc) rc = cm_remove_stale_temps(cache_dir, 1, &stale);
    if (stale) cm_log(CM_LOG_INFO, "%s: removed %zu temporary file(s) left by killed runs", cache_dir, stale);
    if (rc) { cm_cache_close(c); return rc; }
    /* meta.json says what the folder holds; a mismatch (hash collision or a
     * changed dim) is an error rather than silently wrong vectors. */
    char *meta = cm_path_join(c->dir, "meta.json");
    if (!meta) { cm_cache_close(c); return CM_ERR_NOMEM; }
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
                    (size_t)jd->valuedouble != dim))
            rc = cm_error(CM_ERR_FORMAT, "%s: cache folder belongs to another model or dimension "
                          "(expected fingerprint %s, dim %zu); use another --cache-dir", meta, fingerprint, dim);
        cJSON_Delete(m);
    } else {
        size_t failures = cm_alloc_failures();   /* a failed cJSON_Add* drops the member */
        cJSON *m = cJSON_CreateObject();
        cJSON_AddNumberToObject(m, "format", 1);
        cJSON_AddStringToObject(m, "fingerprint", fingerprint);
        cJSON_AddNumberToObject(m, "dim", (double)dim);
        char *text = cm_alloc_failures() == failures ? cJSON_Print(m) : NULL;
        rc = text ? cm_write_file_atomic(meta, text, strlen(text))
                  : cm_error(CM_ERR_NOMEM, "%s: out of memory writing the cache's meta.json", meta);
        free(text);
        cJSON_Delete(m);
    }
    free(meta);
    if (rc) { cm_cache_close(c); return rc; }
    DIR *d = opendir(c->dir);
    if (!d) { rc = cm_error(CM_ERR_IO, "%s: cannot list: %s", c->dir, strerror(errno)); cm_cache_close(c); return rc; }
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (!is_segment_name(e->d_name)) continue;
        char *p = cm_path_join(c->dir, e->d_name);
        rc = p ? load_segment(c, p) : CM_ERR_NOMEM;
        free(p);
    }
    closedir(d);
    if (!rc && c->n_segs > MAX_SEGMENTS) rc = compact(c);
    if (rc) { cm_cache_close(c); return rc; }
    *out = c;
    return CM_OK;
}

int cm_cache_put(cm_cache *c, cm_cache_key key, const float *vec) {
    if (c->n_pending == c->cap_pending) {   /* pkeys[i] and the row pvecs[i * dim ..] */
        size_t elem[2] = {sizeof *c->pkeys, c->dim * sizeof *c->pvecs};
        CM_TRY(cm_array_reserve_n(&c->cap_pending, c->n_pending + 1, 2, (void *const[]){&c->pkeys, &c->pvecs}, elem));
    }
    c->pkeys[c->n_pending] = key;
    memcpy(c->pvecs + c->n_pending * c->dim, vec, c->dim * sizeof *vec);
    c->n_pending++;
    return CM_OK;
}

int cm_cache_flush(cm_cache *c) {
    if (!c || c->n_pending == 0) return CM_OK;
    const float **v = cm_malloc(c->n_pending * sizeof *v);
    if (!v) return CM_ERR_NOMEM;
    for (size_t i = 0; i < c->n_pending; i++) v[i] = c->pvecs + i * c->dim;
    char *path = NULL;
    int rc = write_segment(c, c->pkeys, v, c->n_pending, &path);
    free(v);
    if (rc) return rc;
    c->n_pending = 0;
    rc = load_segment(c, path);   /* index the new segment (mapped, so pending memory can be reused) */
    free(path);
    return rc;
}

size_t cm_cache_size(const cm_cache *c) { return c->count; }
size_t cm_cache_pending(const cm_cache *c) { return c->n_pending; }

void cm_cache_close(cm_cache *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n_segs; i++) {
        munmap(c->segs[i].base, c->segs[i].len);
        free(c->segs[i].path);
    }
    free(c->segs);
    free(c->tab);
    free(c->pkeys);
    free(c->pvecs);
    free(c->dir);
    free(c);
}
