/*
 * store_int.h: the vector store's private state and on-disk helpers, shared
 * by store.c (open, find, read) and store_write.c (add, commit, reindex).
 * Format in cmteb/store.h.
 */
#ifndef CMTEB_ENGINE_STORE_INT_H
#define CMTEB_ENGINE_STORE_INT_H

#include "cmteb/store.h"

#include <stddef.h>
#include <stdint.h>

#define STORE_HEAD_MAGIC "CMTBSTO1"
#define STORE_ROWS_MAGIC "CMTBROW1"
#define STORE_IDX_MAGIC  "CMTBIDX1"
#define STORE_VERSION    1u
#define STORE_HDR        64   /* bytes before the rows of rows.bin and the slots of index-G.bin */
#define STORE_KEY_BYTES  24   /* one key-log entry or index slot: lo, hi, row (+1 in the index) */
#define STORE_MAX_DIM    (1u << 20)

/* An in-memory hash slot: key and row + 1 (0: empty). */
typedef struct { uint64_t lo, hi, row1; } store_slot;

/* The commit record, as head holds it. */
typedef struct {
    uint32_t version, dtype;
    uint64_t dim, n_rows, n_keys, index_gen, index_keys;
    char    *tag;   /* owned */
} store_head;

struct cm_store {
    char          *dir, *label, *tag;
    cm_store_params p;
    size_t         dim, row_bytes;
    cm_store_dtype dtype;
    /* the committed view */
    size_t n_rows, n_keys, index_gen, index_keys;
    int    rows_fd, keys_fd;           /* keys_fd: writers only (-1 otherwise) */
    const unsigned char *rows_map;     /* NULL when rows.bin is read with pread */
    size_t rows_map_len, rows_mapped;  /* bytes mapped; rows inside the mapping */
    const unsigned char *idx_map;      /* index-G.bin */
    size_t idx_len, idx_cap;
    store_slot *tail;                  /* committed log keys past the index: row + 1 */
    size_t tail_cap, tail_count;
    /* staged (not yet committed) */
    unsigned char *srows;              /* (n_staged, row_bytes) */
    size_t n_staged, cap_staged;
    store_slot *stab;                  /* staged keys: local row + 1 */
    size_t stab_cap, stab_count;
    store_slot *slog;                  /* staged keys in order: local row in row1 - 1 */
    size_t n_slog, cap_slog;
};

/* Paths inside the store folder (caller frees). */
char *store_path(const cm_store *s, const char *name);
char *store_index_path(const cm_store *s, size_t gen);

int  store_head_read(const char *dir, store_head *h);        /* CM_ERR_NOTFOUND when there is no head */
int  store_head_write(const cm_store *s, const store_head *h);
void store_head_free(store_head *h);

/* Open addressing over store_slot tables of power-of-two capacity. */
size_t store_probe(const store_slot *tab, size_t cap, uint64_t lo, uint64_t hi);
int    store_tab_put(store_slot **tab, size_t *cap, size_t *count, uint64_t lo, uint64_t hi, uint64_t row1);

/* Maps index generation gen (after unmapping any previous one). */
int  store_map_index(cm_store *s, size_t gen);
/* Calls fn(ctx, lo, hi, row) for the key-log entries [from, to) in order, stopping at the first non-zero
 * return; entries pointing past the committed rows are a CM_ERR_FORMAT naming keys.bin. */
int  store_each_key(const cm_store *s, size_t from, size_t to, int (*fn)(void *ctx, uint64_t lo, uint64_t hi,
                                                                        uint64_t row), void *ctx);
/* Reads committed log entries [from, to) into the tail table. */
int  store_load_tail(cm_store *s, size_t from, size_t to);
/* Brings the committed view up to head h (another writer's commits). */
int  store_refresh(cm_store *s, const store_head *h);

uint16_t store_f32_to_f16(float f);

#endif
