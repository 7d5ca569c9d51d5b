/*
 * store.c: opening, looking up and reading the vector store (format in
 * cmteb/store.h; appends in store_write.c). Opening maps; it never scans.
 */
#include "engine/store/store_int.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

cm_store_params cm_store_default_params(void) {
    cm_store_params p;
    memset(&p, 0, sizeof p);
    p.dtype = CM_STORE_F32;
    p.map_max = (size_t)1 << 30;
    p.index_every = 65536;
    return p;
}

char *store_path(const cm_store *s, const char *name) { return cm_path_join(s->dir, name); }

char *store_index_path(const cm_store *s, size_t gen) { return cm_asprintf("%s/index-%zu.bin", s->dir, gen); }

int cm_store_exists(const char *dir) {
    /* no allocation: an out-of-memory "no" would let a writer create a store over an existing one */
    char p[4096];
    int n = snprintf(p, sizeof p, "%s/head", dir);
    return n > 0 && (size_t)n < sizeof p && cm_file_exists(p);   /* longer than PATH_MAX: nothing opens it */
}

static uint64_t rd64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t rd32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }

void store_head_free(store_head *h) { free(h->tag); h->tag = NULL; }

int store_head_read(const char *dir, store_head *h) {
    memset(h, 0, sizeof *h);
    char *path = cm_path_join(dir, "head");
    if (!path) return CM_ERR_NOMEM;
    if (!cm_file_exists(path)) { free(path); return CM_ERR_NOTFOUND; }
    char *buf = NULL;
    size_t len = 0;
    int rc = cm_read_file_max(path, &buf, &len, 1 << 20);
    const unsigned char *b = (const unsigned char *)buf;
    if (!rc && (len < 72 || memcmp(b, STORE_HEAD_MAGIC, 8) != 0))
        rc = cm_error(CM_ERR_FORMAT, "%s: not a vector store head (expected magic %s and at least 72 bytes)", path,
                      STORE_HEAD_MAGIC);
    if (!rc) {
        h->version = rd32(b + 8);
        h->dtype = rd32(b + 12);
        h->dim = rd64(b + 16);
        h->n_rows = rd64(b + 24);
        h->n_keys = rd64(b + 32);
        h->index_gen = rd64(b + 40);
        h->index_keys = rd64(b + 48);
        uint64_t tl = rd64(b + 56);
        if (h->version != STORE_VERSION)
            rc = cm_error(CM_ERR_FORMAT, "%s: store version %u (expected %u)", path, h->version, STORE_VERSION);
        else if (tl > len || len != 64 + tl + 8 || rd64(b + len - 8) != cm_hash64(b, len - 8, 0))
            rc = cm_error(CM_ERR_FORMAT, "%s: damaged store head (size or checksum)", path);
        else if (h->dtype > 1 || h->dim == 0 || h->dim > STORE_MAX_DIM || h->index_keys > h->n_keys ||
                 h->n_rows > (1ULL << 40) || h->n_keys > (1ULL << 42))
            rc = cm_error(CM_ERR_FORMAT, "%s: impossible store head (dtype %u, dim %llu, %llu rows, %llu keys)", path,
                          h->dtype, (unsigned long long)h->dim, (unsigned long long)h->n_rows,
                          (unsigned long long)h->n_keys);
        else if (!(h->tag = cm_strndup((const char *)b + 64, (size_t)tl)))
            rc = CM_ERR_NOMEM;
    }
    free(buf);
    free(path);
    if (rc) store_head_free(h);
    return rc;
}

size_t store_probe(const store_slot *tab, size_t cap, uint64_t lo, uint64_t hi) {
    size_t i = (size_t)(lo ^ (hi >> 7)) & (cap - 1);
    while (tab[i].row1 && (tab[i].lo != lo || tab[i].hi != hi)) i = (i + 1) & (cap - 1);
    return i;
}

int store_tab_put(store_slot **tab, size_t *cap, size_t *count, uint64_t lo, uint64_t hi, uint64_t row1) {
    if ((*count + 1) * 2 > *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        store_slot *nt = cm_calloc(nc, sizeof *nt);
        if (!nt) return CM_ERR_NOMEM;
        for (size_t i = 0; i < *cap; i++)
            if ((*tab)[i].row1) nt[store_probe(nt, nc, (*tab)[i].lo, (*tab)[i].hi)] = (*tab)[i];
        free(*tab);
        *tab = nt;
        *cap = nc;
    }
    size_t i = store_probe(*tab, *cap, lo, hi);
    if ((*tab)[i].row1) return CM_OK;   /* first row wins */
    (*tab)[i].lo = lo;
    (*tab)[i].hi = hi;
    (*tab)[i].row1 = row1;
    (*count)++;
    return CM_OK;
}

int store_map_index(cm_store *s, size_t gen) {
    if (s->idx_map) munmap((void *)s->idx_map, s->idx_len);
    s->idx_map = NULL;
    s->idx_len = s->idx_cap = 0;
    char *path = store_index_path(s, gen);
    if (!path) return CM_ERR_NOMEM;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = cm_error(errno == ENOENT ? CM_ERR_NOTFOUND : CM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        free(path);
        return rc;
    }
    struct stat st;
    int rc = fstat(fd, &st) == 0 ? CM_OK : cm_error(CM_ERR_IO, "%s: cannot stat", path);
    size_t len = rc ? 0 : (size_t)st.st_size;
    void *m = MAP_FAILED;
    if (!rc && len >= STORE_HDR) m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (!rc && m == MAP_FAILED) rc = cm_error(CM_ERR_IO, "%s: cannot map (%zu bytes): %s", path, len, strerror(errno));
    if (!rc) {
        const unsigned char *b = m;
        uint64_t cap = rd64(b + 8), count = rd64(b + 16), covers = rd64(b + 24);
        int ok = memcmp(b, STORE_IDX_MAGIC, 8) == 0 && rd64(b + 32) == cm_hash64(b, 32, 0) && cap >= 16 &&
                 (cap & (cap - 1)) == 0 && cap < (1ULL << 40) && len == STORE_HDR + cap * STORE_KEY_BYTES &&
                 count < cap && covers == s->index_keys;
        if (!ok) {
            munmap(m, len);
            rc = cm_error(CM_ERR_FORMAT, "%s: damaged store index (expected %s, %zu bytes of header and slots, "
                          "covering %zu keys)", path, STORE_IDX_MAGIC, len, s->index_keys);
        } else {
            s->idx_map = b;
            s->idx_len = len;
            s->idx_cap = (size_t)cap;
        }
    }
    free(path);
    return rc;
}

int store_each_key(const cm_store *s, size_t from, size_t to, int (*fn)(void *ctx, uint64_t lo, uint64_t hi,
                                                                        uint64_t row), void *ctx) {
    if (to <= from) return CM_OK;
    char *path = store_path(s, "keys.bin");
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    int rc = path ? CM_OK : CM_ERR_NOMEM;
    if (!rc && fd < 0) rc = cm_error(CM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char buf[STORE_KEY_BYTES * 512];
    for (size_t i = from; !rc && i < to;) {
        size_t m = to - i < 512 ? to - i : 512;
        ssize_t r = pread(fd, buf, m * STORE_KEY_BYTES, (off_t)(i * STORE_KEY_BYTES));
        if (r != (ssize_t)(m * STORE_KEY_BYTES)) {
            rc = cm_error(CM_ERR_FORMAT, "%s: shorter than the %zu keys the store's head counts", path, to);
            break;
        }
        for (size_t j = 0; j < m && !rc; j++) {
            const unsigned char *e = buf + j * STORE_KEY_BYTES;
            uint64_t row = rd64(e + 16);
            if (row >= s->n_rows)
                rc = cm_error(CM_ERR_FORMAT, "%s: key %zu points at row %llu of %zu", path, i + j,
                              (unsigned long long)row, s->n_rows);
            else
                rc = fn(ctx, rd64(e), rd64(e + 8), row);
        }
        i += m;
    }
    if (fd >= 0) close(fd);
    free(path);
    return rc;
}

static int put_tail(void *ctx, uint64_t lo, uint64_t hi, uint64_t row) {
    cm_store *s = ctx;
    return store_tab_put(&s->tail, &s->tail_cap, &s->tail_count, lo, hi, row + 1);
}

int store_load_tail(cm_store *s, size_t from, size_t to) { return store_each_key(s, from, to, put_tail, s); }

/* Maps rows.bin when small enough; checks that it holds the committed rows. */
static int map_rows(cm_store *s) {
    if (s->rows_map) munmap((void *)s->rows_map, s->rows_map_len);
    s->rows_map = NULL;
    s->rows_map_len = s->rows_mapped = 0;
    struct stat st;
    if (fstat(s->rows_fd, &st) != 0) return cm_error(CM_ERR_IO, "%s/rows.bin: cannot stat", s->dir);
    size_t len = (size_t)st.st_size;
    if (len < STORE_HDR + s->n_rows * s->row_bytes)
        return cm_error(CM_ERR_FORMAT, "%s/rows.bin: %zu bytes, shorter than the %zu rows of %zu bytes the store's "
                        "head counts", s->dir, len, s->n_rows, s->row_bytes);
    if (len > s->p.map_max || s->n_rows == 0) return CM_OK;
    void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, s->rows_fd, 0);
    if (m == MAP_FAILED) return CM_OK;   /* pread instead */
    s->rows_map = m;
    s->rows_map_len = len;
    s->rows_mapped = s->n_rows;
    return CM_OK;
}

int store_refresh(cm_store *s, const store_head *h) {
    if (h->dim != s->dim || h->dtype != (uint32_t)s->dtype || h->n_rows < s->n_rows || h->n_keys < s->n_keys)
        return cm_error(CM_ERR_FORMAT, "%s: the store changed under us (rows or keys went back, or dim/dtype changed)",
                        s->dir);
    size_t old_keys = s->n_keys;
    s->n_rows = (size_t)h->n_rows;
    s->n_keys = (size_t)h->n_keys;
    if (h->index_gen != s->index_gen) {
        s->index_gen = (size_t)h->index_gen;
        s->index_keys = (size_t)h->index_keys;
        CM_TRY(store_map_index(s, s->index_gen));
        free(s->tail);
        s->tail = NULL;
        s->tail_cap = s->tail_count = 0;
        old_keys = s->index_keys;
    }
    return store_load_tail(s, old_keys, s->n_keys);
}

/* Opens the committed store in dir (head present). */
static int open_existing(cm_store *s) {
    store_head h;
    CM_TRY(store_head_read(s->dir, &h));
    int rc = CM_OK;
    if (s->p.dim && h.dim != s->p.dim)
        rc = cm_error(CM_ERR_FORMAT, "%s: store rows have dim %llu (expected %zu)", s->dir,
                      (unsigned long long)h.dim, s->p.dim);
    else if (s->p.tag && strcmp(s->p.tag, h.tag))
        rc = cm_error(CM_ERR_FORMAT, "%s: store holds '%.200s' (expected '%.200s')", s->dir, h.tag, s->p.tag);
    if (rc) { store_head_free(&h); return rc; }
    s->dim = (size_t)h.dim;
    s->dtype = (cm_store_dtype)h.dtype;
    s->row_bytes = s->dim * (s->dtype == CM_STORE_F16 ? 2 : 4);
    s->n_rows = (size_t)h.n_rows;
    s->n_keys = (size_t)h.n_keys;
    s->index_gen = (size_t)h.index_gen;
    s->index_keys = (size_t)h.index_keys;
    s->tag = h.tag;
    h.tag = NULL;
    char *rp = store_path(s, "rows.bin");
    if (!rp) return CM_ERR_NOMEM;
    s->rows_fd = open(rp, (s->p.writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (s->rows_fd < 0) rc = cm_error(CM_ERR_IO, "%s: cannot open: %s", rp, strerror(errno));
    unsigned char hdr[STORE_HDR];
    if (!rc && (pread(s->rows_fd, hdr, STORE_HDR, 0) != STORE_HDR || memcmp(hdr, STORE_ROWS_MAGIC, 8) ||
                rd32(hdr + 8) != (uint32_t)s->dtype || rd64(hdr + 16) != s->dim))
        rc = cm_error(CM_ERR_FORMAT, "%s: not the rows file of this store (expected %s, dtype %u, dim %zu)", rp,
                      STORE_ROWS_MAGIC, (unsigned)s->dtype, s->dim);
    free(rp);
    if (!rc) rc = map_rows(s);
    if (!rc) rc = store_map_index(s, s->index_gen);
    if (!rc) rc = store_load_tail(s, s->index_keys, s->n_keys);
    if (!rc && s->p.writable) {
        char *kp = store_path(s, "keys.bin");
        s->keys_fd = kp ? open(kp, O_RDWR | O_CLOEXEC) : -1;
        if (s->keys_fd < 0) rc = kp ? cm_error(CM_ERR_IO, "%s: cannot open: %s", kp, strerror(errno)) : CM_ERR_NOMEM;
        free(kp);
    }
    return rc;
}

int store_create(cm_store *s);   /* store_write.c */

int cm_store_open(cm_store **out, const char *dir, const cm_store_params *params) {
    *out = NULL;
    cm_store *s = cm_calloc(1, sizeof *s);
    if (!s) return CM_ERR_NOMEM;
    s->p = params ? *params : cm_store_default_params();
    if (!s->p.index_every) s->p.index_every = 65536;
    s->rows_fd = s->keys_fd = -1;
    s->dir = cm_strdup(dir);
    int rc = s->dir ? CM_OK : CM_ERR_NOMEM;
    if (!rc && s->p.writable && !cm_store_exists(dir)) {
        if (!s->p.dim || s->p.dim > STORE_MAX_DIM)
            rc = cm_error(CM_ERR_ARG, "%s: a new store needs a dim in 1..%u", dir, STORE_MAX_DIM);
        else if (!(rc = cm_mkdir_p(dir)))
            rc = store_create(s);
    }
    if (!rc && s->p.writable) {
        size_t stale = 0;
        rc = cm_remove_stale_temps(dir, 0, &stale);
    }
    /* a writer may replace the index between our reading head and mapping it: read head again */
    for (int tries = 0; !rc || rc == CM_ERR_NOTFOUND; tries++) {
        if (!cm_store_exists(dir)) {
            rc = cm_error(CM_ERR_NOTFOUND, "%s: no vector store here (no head file)", dir);
            break;
        }
        rc = open_existing(s);
        if (rc != CM_ERR_NOTFOUND || tries == 3) break;
        free(s->tag);
        s->tag = NULL;
        if (s->rows_fd >= 0) close(s->rows_fd);
        if (s->keys_fd >= 0) close(s->keys_fd);
        s->rows_fd = s->keys_fd = -1;
        if (s->rows_map) munmap((void *)s->rows_map, s->rows_map_len);
        s->rows_map = NULL;
        free(s->tail);
        s->tail = NULL;
        s->tail_cap = s->tail_count = 0;
    }
    if (rc) { cm_store_close(s); return rc; }
    *out = s;
    return CM_OK;
}

void cm_store_close(cm_store *s) {
    if (!s) return;
    if (s->rows_map) munmap((void *)s->rows_map, s->rows_map_len);
    if (s->idx_map) munmap((void *)s->idx_map, s->idx_len);
    if (s->rows_fd >= 0) close(s->rows_fd);
    if (s->keys_fd >= 0) close(s->keys_fd);
    free(s->tail);
    free(s->srows);
    free(s->stab);
    free(s->slog);
    free(s->dir);
    free(s->label);
    free(s->tag);
    free(s);
}

size_t cm_store_dim(const cm_store *s) { return s->dim; }
cm_store_dtype cm_store_get_dtype(const cm_store *s) { return s->dtype; }
size_t cm_store_rows(const cm_store *s) { return s->n_rows; }
size_t cm_store_keys(const cm_store *s) { return s->n_keys; }
const char *cm_store_tag(const cm_store *s) { return s->tag; }
const char *cm_store_dir(const cm_store *s) { return s->dir; }
size_t cm_store_staged(const cm_store *s) { return s->n_staged; }
size_t cm_store_staged_bytes(const cm_store *s) {
    return s->n_staged * s->row_bytes + 3 * s->n_slog * sizeof(store_slot);   /* rows, log, table at half load */
}

int cm_store_set_tag(cm_store *s, const char *tag) {
    char *t = cm_strdup(tag);
    if (!t) return CM_ERR_NOMEM;
    free(s->tag);
    s->tag = t;
    return CM_OK;
}

int cm_store_set_label(cm_store *s, const char *label) {
    char *l = cm_strdup(label);
    if (!l) return CM_ERR_NOMEM;
    free(s->label);
    s->label = l;
    return CM_OK;
}

cm_store_key cm_store_key_text(int role, const char *instruction, const char *text) {
    /* role, instruction, text: distinct inputs, distinct keys (the embedding cache's keys since format 1) */
    size_t li = instruction ? strlen(instruction) : 0, lt = strlen(text);
    uint64_t h1 = cm_hash64(text, lt, 0x51ULL + (uint64_t)role);
    uint64_t h2 = cm_hash64(text, lt, 0xa7ULL + (uint64_t)role * 7919);
    uint64_t i1 = li ? cm_hash64(instruction, li, 0x3bULL) : 0x1234;
    uint64_t i2 = li ? cm_hash64(instruction, li, 0x9dULL) : 0x5678;
    cm_store_key k;
    k.lo = h1 ^ (i1 * 0x9e3779b97f4a7c15ULL);
    k.hi = h2 ^ (i2 * 0xc2b2ae3d27d4eb4fULL) ^ ((uint64_t)lt << 1);
    return k;
}

/* The index slot key's probe starts at. */
static size_t idx_home(const cm_store *s, cm_store_key key) {
    return (size_t)(key.lo ^ (key.hi >> 7)) & (s->idx_cap - 1);
}

void cm_store_prefetch_key(const cm_store *s, cm_store_key key) {
    if (s->idx_cap) __builtin_prefetch(s->idx_map + STORE_HDR + idx_home(s, key) * STORE_KEY_BYTES);
}

void cm_store_prefetch_row(const cm_store *s, size_t row) {
    if (row < s->rows_mapped) __builtin_prefetch(s->rows_map + STORE_HDR + row * s->row_bytes);
}

int cm_store_find(const cm_store *s, cm_store_key key, size_t *row) {
    if (s->idx_cap) {
        size_t i = idx_home(s, key);
        for (size_t probes = 0; probes < s->idx_cap; probes++) {   /* a damaged index may have no empty slot */
            const unsigned char *sl = s->idx_map + STORE_HDR + i * STORE_KEY_BYTES;
            uint64_t r1 = rd64(sl + 16);
            if (!r1) break;
            if (rd64(sl) == key.lo && rd64(sl + 8) == key.hi) {
                if (r1 > s->n_rows) break;   /* cannot happen in a store we wrote; never read past the end */
                *row = (size_t)r1 - 1;
                return 1;
            }
            i = (i + 1) & (s->idx_cap - 1);
        }
    }
    if (s->tail_cap) {
        const store_slot *t = &s->tail[store_probe(s->tail, s->tail_cap, key.lo, key.hi)];
        if (t->row1) { *row = (size_t)t->row1 - 1; return 1; }
    }
    if (s->stab_cap) {
        const store_slot *t = &s->stab[store_probe(s->stab, s->stab_cap, key.lo, key.hi)];
        if (t->row1) { *row = s->n_rows + (size_t)t->row1 - 1; return 1; }
    }
    return 0;
}

/* CM_OK when row's float32 values v (dim) are finite, else the error naming the value, row and column. */
static int check_row(const cm_store *s, size_t row, const float *v) {
    size_t j = cm_first_nonfinite(v, s->dim);
    if (j < s->dim) {
        char dflt[64];
        const char *lab = s->label;
        if (!lab) { snprintf(dflt, sizeof dflt, "%.40s/rows.bin", s->dir); lab = dflt; }
        return cm_error(CM_ERR_NUMERIC, "%s: value %zu is %s (row %zu, column %zu; expected finite numbers)", lab,
                        row * s->dim + j, isnan(v[j]) ? "NaN" : "Inf", row, j);
    }
    return CM_OK;
}

/* Converts one stored row to float32 and checks it. */
static int convert_row(const cm_store *s, const unsigned char *src, size_t row, float *out) {
    if (s->dtype == CM_STORE_F32) memmove(out, src, s->row_bytes);
    else
        for (size_t j = 0; j < s->dim; j++) {
            uint16_t h;
            memcpy(&h, src + 2 * j, 2);
            out[j] = cm_f16_to_f32(h);
        }
    return check_row(s, row, out);
}

int cm_store_view(const cm_store *s, size_t row, const float **out) {
    *out = NULL;
    if (s->dtype != CM_STORE_F32 || row >= s->rows_mapped) return CM_ERR_UNSUPPORTED;
    const float *v = (const float *)(const void *)(s->rows_map + STORE_HDR + row * s->row_bytes);
    CM_TRY(check_row(s, row, v));
    *out = v;
    return CM_OK;
}

int cm_store_read(const cm_store *s, size_t row, size_t n, float *out) {
    if (row + n > s->n_rows + s->n_staged || row + n < row)
        return cm_error(CM_ERR_ARG, "%s: rows %zu..%zu asked, the store has %zu", s->dir, row, row + n,
                        s->n_rows + s->n_staged);
    for (size_t i = 0; i < n; i++) {
        size_t r = row + i;
        float *o = out + i * s->dim;
        const unsigned char *src;
        if (r >= s->n_rows) src = s->srows + (r - s->n_rows) * s->row_bytes;
        else if (r < s->rows_mapped) src = s->rows_map + STORE_HDR + r * s->row_bytes;
        else {
            /* pread into the back of the output row (float16 widens front to back without overlap) */
            unsigned char *dst = (unsigned char *)o + (s->dim * 4 - s->row_bytes);
            off_t off = (off_t)(STORE_HDR + r * s->row_bytes);
            size_t got = 0;
            while (got < s->row_bytes) {
                ssize_t k = pread(s->rows_fd, dst + got, s->row_bytes - got, off + (off_t)got);
                if (k < 0 && errno == EINTR) continue;
                if (k <= 0)
                    return cm_error(CM_ERR_IO, "%s/rows.bin: cannot read row %zu: %s", s->dir, r,
                                    k < 0 ? strerror(errno) : "end of file");
                got += (size_t)k;
            }
            src = dst;
        }
        CM_TRY(convert_row(s, src, r, o));
    }
    return CM_OK;
}

uint16_t store_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u, ex = (x >> 23) & 0xff, man = x & 0x7fffffu;
    if (ex == 0xff) return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0));
    int e = (int)ex - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        man |= 0x800000u;
        int shift = 14 - e;
        uint32_t h = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (man >> 13), rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++;
    return (uint16_t)(sign | h);
}
