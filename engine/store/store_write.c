/*
 * store_write.c: creating a vector store, staging rows, and the crash-safe
 * commit (rows and keys past the committed ends, fsync, then the head
 * replaced atomically) and index rebuilds (format in cmteb/store.h).
 */
#include "engine/store/store_int.h"
#include "cmteb/array.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static void wr64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }
static void wr32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }

int store_head_write(const cm_store *s, const store_head *h) {
    size_t tl = h->tag ? strlen(h->tag) : 0, len = 64 + tl + 8;
    unsigned char *b = cm_calloc(1, len);
    if (!b) return CM_ERR_NOMEM;
    memcpy(b, STORE_HEAD_MAGIC, 8);
    wr32(b + 8, STORE_VERSION);
    wr32(b + 12, h->dtype);
    wr64(b + 16, h->dim);
    wr64(b + 24, h->n_rows);
    wr64(b + 32, h->n_keys);
    wr64(b + 40, h->index_gen);
    wr64(b + 48, h->index_keys);
    wr64(b + 56, tl);
    if (tl) memcpy(b + 64, h->tag, tl);
    wr64(b + 64 + tl, cm_hash64(b, 64 + tl, 0));
    char *path = store_path(s, "head");
    int rc = path ? cm_write_file_atomic(path, b, len) : CM_ERR_NOMEM;
    free(path);
    free(b);
    return rc;
}

/* Writes all of len bytes at off. */
static int pwrite_all(int fd, const void *data, size_t len, size_t off, const char *what) {
    const unsigned char *p = data;
    while (len) {
        ssize_t w = pwrite(fd, p, len, (off_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return cm_error(CM_ERR_IO, "%s: write failed: %s", what, w < 0 ? strerror(errno) : "no progress");
        p += w;
        off += (size_t)w;
        len -= (size_t)w;
    }
    return CM_OK;
}

/* Takes the store's writer lock (blocking); *fd receives it. */
static int lock_store(const cm_store *s, int *fd) {
    char *path = store_path(s, "lock");
    if (!path) return CM_ERR_NOMEM;
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    int rc = *fd < 0 ? cm_error(CM_ERR_IO, "%s: cannot open: %s", path, strerror(errno)) : CM_OK;
    while (!rc && flock(*fd, LOCK_EX) != 0)
        if (errno != EINTR) rc = cm_error(CM_ERR_IO, "%s: cannot lock: %s", path, strerror(errno));
    if (rc && *fd >= 0) { close(*fd); *fd = -1; }
    free(path);
    return rc;
}

static void unlock_store(int fd) {
    if (fd >= 0) close(fd);   /* closing releases the flock */
}

/* Writes index generation gen over slots tab (cap) holding count keys, covering the first covers log keys. */
static int write_index(const cm_store *s, size_t gen, const store_slot *tab, size_t cap, size_t count,
                       size_t covers) {
    size_t len = STORE_HDR + cap * STORE_KEY_BYTES;
    unsigned char *b = cm_calloc(1, len);
    if (!b) return CM_ERR_NOMEM;
    memcpy(b, STORE_IDX_MAGIC, 8);
    wr64(b + 8, cap);
    wr64(b + 16, count);
    wr64(b + 24, covers);
    wr64(b + 32, cm_hash64(b, 32, 0));
    for (size_t i = 0; tab && i < cap; i++) {
        unsigned char *sl = b + STORE_HDR + i * STORE_KEY_BYTES;
        wr64(sl, tab[i].lo);
        wr64(sl + 8, tab[i].hi);
        wr64(sl + 16, tab[i].row1);
    }
    char *path = store_index_path(s, gen);
    int rc = path ? cm_write_file_atomic(path, b, len) : CM_ERR_NOMEM;
    free(path);
    free(b);
    return rc;
}

int store_create(cm_store *s) {
    int lfd = -1;
    CM_TRY(lock_store(s, &lfd));
    int rc = CM_OK;
    if (!cm_store_exists(s->dir)) {   /* another process may have made it while we waited */
        s->dim = s->p.dim;
        s->dtype = s->p.dtype;
        unsigned char hdr[STORE_HDR] = {0};
        memcpy(hdr, STORE_ROWS_MAGIC, 8);
        wr32(hdr + 8, (uint32_t)s->dtype);
        wr64(hdr + 16, s->dim);
        char *rp = store_path(s, "rows.bin"), *kp = store_path(s, "keys.bin");
        rc = rp && kp ? cm_write_file_atomic(rp, hdr, sizeof hdr) : CM_ERR_NOMEM;
        if (!rc) rc = cm_write_file_atomic(kp, "", 0);
        free(rp);
        free(kp);
        store_slot empty[16];
        memset(empty, 0, sizeof empty);
        if (!rc) rc = write_index(s, 0, empty, 16, 0, 0);
        store_head h = {STORE_VERSION, (uint32_t)s->dtype, s->dim, 0, 0, 0, 0, (char *)(s->p.tag ? s->p.tag : "")};
        if (!rc) rc = store_head_write(s, &h);
    }
    unlock_store(lfd);
    return rc;
}

int cm_store_add_raw(cm_store *s, const void *raw, const cm_store_key *keys, size_t nkeys, size_t *row) {
    if (!s->p.writable) return cm_error(CM_ERR_ARG, "%s: store opened read-only", s->dir);
    if (s->n_staged == s->cap_staged) {
        size_t nc = s->cap_staged ? s->cap_staged * 2 : 64;
        unsigned char *nr = cm_realloc(s->srows, nc * s->row_bytes);
        if (!nr) return CM_ERR_NOMEM;
        s->srows = nr;
        s->cap_staged = nc;
    }
    size_t local = s->n_staged;
    CM_TRY(cm_array_reserve(s->slog, s->cap_slog, s->n_slog + nkeys));
    for (size_t k = 0; k < nkeys; k++) {
        size_t have;
        if (cm_store_find(s, keys[k], &have)) continue;
        CM_TRY(store_tab_put(&s->stab, &s->stab_cap, &s->stab_count, keys[k].lo, keys[k].hi, local + 1));
        s->slog[s->n_slog].lo = keys[k].lo;
        s->slog[s->n_slog].hi = keys[k].hi;
        s->slog[s->n_slog].row1 = local + 1;
        s->n_slog++;
    }
    memcpy(s->srows + local * s->row_bytes, raw, s->row_bytes);
    s->n_staged++;
    if (row) *row = s->n_rows + local;
    return CM_OK;
}

int cm_store_add(cm_store *s, const float *vec, const cm_store_key *keys, size_t nkeys, size_t *row) {
    if (s->dtype == CM_STORE_F32) return cm_store_add_raw(s, vec, keys, nkeys, row);
    uint16_t small[1024] = {0}, *h = s->dim <= 1024 ? small : cm_malloc(s->dim * sizeof *h);
    if (!h) return CM_ERR_NOMEM;
    for (size_t j = 0; j < s->dim; j++) h[j] = store_f32_to_f16(vec[j]);
    int rc = cm_store_add_raw(s, h, keys, nkeys, row);
    if (h != small) free(h);
    return rc;
}

/* Removes index-G.bin files other than generation keep (the previous one, and any a writer killed between
 * replacing head and removing the old file left behind). */
static void remove_old_indexes(const cm_store *s, size_t keep) {
    DIR *d = opendir(s->dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        unsigned long long g;
        char tail[8];
        if (sscanf(e->d_name, "index-%llu.bi%7s", &g, tail) != 2 || strcmp(tail, "n") || g == keep) continue;
        char *p = store_path(s, e->d_name);
        if (p) unlink(p);
        free(p);
    }
    closedir(d);
}

/* Rebuilds the index over every committed key (caller holds the lock). */
static int rebuild_index(cm_store *s) {
    size_t count = 0, cap = 16;
    /* distinct keys: the index's plus the tail's */
    size_t old = 0;
    for (size_t i = 0; i < s->idx_cap; i++) {
        uint64_t r1;
        memcpy(&r1, s->idx_map + STORE_HDR + i * STORE_KEY_BYTES + 16, 8);
        old += r1 != 0;
    }
    while (cap < 2 * (old + s->tail_count) + 2) cap <<= 1;
    store_slot *tab = cm_calloc(cap, sizeof *tab);
    if (!tab) return CM_ERR_NOMEM;
    for (size_t i = 0; i < s->idx_cap; i++) {
        store_slot sl;
        memcpy(&sl, s->idx_map + STORE_HDR + i * STORE_KEY_BYTES, sizeof sl);
        if (!sl.row1) continue;
        size_t j = store_probe(tab, cap, sl.lo, sl.hi);
        if (!tab[j].row1) { tab[j] = sl; count++; }
    }
    for (size_t i = 0; i < s->tail_cap; i++) {
        const store_slot *sl = &s->tail[i];
        if (!sl->row1) continue;
        size_t j = store_probe(tab, cap, sl->lo, sl->hi);
        if (!tab[j].row1) { tab[j] = *sl; count++; }
    }
    size_t gen = s->index_gen + 1;
    int rc = write_index(s, gen, tab, cap, count, s->n_keys);
    free(tab);
    if (rc) return rc;
    store_head h = {STORE_VERSION, (uint32_t)s->dtype, s->dim, s->n_rows, s->n_keys, gen, s->n_keys, s->tag};
    CM_TRY(store_head_write(s, &h));
    remove_old_indexes(s, gen);   /* readers that mapped one keep their mapping */
    s->index_gen = gen;
    s->index_keys = s->n_keys;
    free(s->tail);
    s->tail = NULL;
    s->tail_cap = s->tail_count = 0;
    return store_map_index(s, gen);
}

static int commit_locked(cm_store *s, int force_index) {
    store_head h;
    CM_TRY(store_head_read(s->dir, &h));
    int rc = store_refresh(s, &h);   /* rows and keys other writers committed since we looked */
    store_head_free(&h);
    if (rc) return rc;
    size_t base = s->n_rows;
    if (s->n_staged) {
        char what[64];
        snprintf(what, sizeof what, "%.40s/rows.bin", s->dir);
        CM_TRY(pwrite_all(s->rows_fd, s->srows, s->n_staged * s->row_bytes, STORE_HDR + base * s->row_bytes, what));
        unsigned char *kb = cm_malloc(s->n_slog * STORE_KEY_BYTES + 1);
        if (!kb) return CM_ERR_NOMEM;
        for (size_t i = 0; i < s->n_slog; i++) {
            wr64(kb + i * STORE_KEY_BYTES, s->slog[i].lo);
            wr64(kb + i * STORE_KEY_BYTES + 8, s->slog[i].hi);
            wr64(kb + i * STORE_KEY_BYTES + 16, base + s->slog[i].row1 - 1);
        }
        snprintf(what, sizeof what, "%.40s/keys.bin", s->dir);
        rc = pwrite_all(s->keys_fd, kb, s->n_slog * STORE_KEY_BYTES, s->n_keys * STORE_KEY_BYTES, what);
        free(kb);
        if (rc) return rc;
        if (fdatasync(s->rows_fd) != 0 || fdatasync(s->keys_fd) != 0)
            return cm_error(CM_ERR_IO, "%s: cannot flush rows or keys: %s", s->dir, strerror(errno));
        store_head nh = {STORE_VERSION, (uint32_t)s->dtype, s->dim, base + s->n_staged, s->n_keys + s->n_slog,
                         s->index_gen, s->index_keys, s->tag};
        CM_TRY(store_head_write(s, &nh));   /* the commit point */
        s->n_rows = base + s->n_staged;
        for (size_t i = 0; i < s->n_slog; i++)
            CM_TRY(store_tab_put(&s->tail, &s->tail_cap, &s->tail_count, s->slog[i].lo, s->slog[i].hi,
                                 base + s->slog[i].row1));
        s->n_keys += s->n_slog;
        s->n_staged = s->n_slog = s->stab_count = 0;
        if (s->stab) memset(s->stab, 0, s->stab_cap * sizeof *s->stab);
    }
    if (force_index || s->n_keys - s->index_keys > s->p.index_every)
        CM_TRY(rebuild_index(s));
    return CM_OK;
}

static int commit(cm_store *s, int force_index) {
    if (!s->p.writable) return cm_error(CM_ERR_ARG, "%s: store opened read-only", s->dir);
    int lfd = -1;
    CM_TRY(lock_store(s, &lfd));
    int rc = commit_locked(s, force_index);
    unlock_store(lfd);
    return rc;
}

int cm_store_commit(cm_store *s) { return commit(s, 0); }
int cm_store_reindex(cm_store *s) { return commit(s, 1); }

typedef struct { cm_store *dst; const cm_store *src; float *vec; } copy_ctx;

/* One key of the source: its row staged into dst, unless dst holds the key (the first copy stays). */
static int copy_key(void *ctx, uint64_t lo, uint64_t hi, uint64_t row) {
    copy_ctx *c = ctx;
    cm_store_key k = {lo, hi};
    size_t have;
    if (cm_store_find(c->dst, k, &have)) return CM_OK;
    CM_TRY(cm_store_read(c->src, (size_t)row, 1, c->vec));
    CM_TRY(cm_store_add(c->dst, c->vec, &k, 1, NULL));
    return cm_store_staged_bytes(c->dst) >= ((size_t)64 << 20) ? cm_store_commit(c->dst) : CM_OK;
}

int cm_store_copy_from(cm_store *dst, const cm_store *src) {
    if (src->dim != dst->dim)
        return cm_error(CM_ERR_ARG, "%s: rows of width %zu cannot go into %s (width %zu)", src->dir, src->dim, dst->dir,
                        dst->dim);
    copy_ctx c = {dst, src, cm_malloc(src->dim * sizeof(float))};
    if (!c.vec) return CM_ERR_NOMEM;
    int rc = store_each_key(src, 0, src->n_keys, copy_key, &c);   /* the committed key log, in order */
    free(c.vec);
    return rc;
}

void cm_store_remove(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *f = cm_path_join(dir, e->d_name);
        if (f) unlink(f);
        free(f);
    }
    closedir(d);
    rmdir(dir);
}
