/*
 * store.h: a vector store on disk: float32 or float16 rows of one width,
 * a persisted hash index from 128-bit keys to rows, crash-safe appends.
 * The precomputed backend (precomputed:DIR) and the embedding cache both
 * keep their vectors in one.
 *
 * A store is a folder:
 *   head          the commit record (written atomically: temp, fsync, rename)
 *                   char magic[8] "CMTBSTO1"; uint32 version 1; uint32 dtype
 *                   (0 float32, 1 float16); uint64 dim, n_rows, n_keys,
 *                   index_gen, index_keys, tag_len; char tag[tag_len];
 *                   uint64 checksum (cm_hash64 of the bytes before it)
 *   rows.bin      64-byte header (magic "CMTBROW1", uint32 dtype, uint32 0,
 *                 uint64 dim), then rows (n_rows, dim) of the dtype
 *   keys.bin      the key log: n_keys entries {uint64 lo, hi, row}
 *   index-G.bin   the hash index of the first index_keys log entries:
 *                 64-byte header (magic "CMTBIDX1", uint64 cap, count,
 *                 covers, checksum of those), then cap slots {uint64 lo, hi,
 *                 row + 1} (0: empty), linear probing from (lo ^ hi >> 7)
 *   lock          flock'ed by a writer while it commits
 * All integers little-endian. Only what head counts exists: an append
 * writes rows and key entries past the committed ends, fsyncs them, and only
 * then replaces head, so kill -9 at any moment leaves the previous commit
 * (a torn tail is ignored on open and overwritten by the next commit). The
 * index is rebuilt (a new generation, then head, then the old file removed)
 * when the log holds more than index_every keys it does not cover.
 *
 * Opening maps head, the index and (when not larger than map_max) rows.bin;
 * it reads only the log tail not in the index (at most index_every entries):
 * no work grows with the store. Rows are checked for NaN/Inf when read, not
 * when opened; the error names the row and the value's place.
 *
 * Several processes may append to one store: a commit takes the lock,
 * re-reads head and places its staged rows after whatever others committed.
 * Ownership: cm_store_open allocates the store, cm_store_close frees it
 * (staged, uncommitted rows are dropped).
 */
#ifndef CMTEB_STORE_H
#define CMTEB_STORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { CM_STORE_F32 = 0, CM_STORE_F16 = 1 } cm_store_dtype;

typedef struct cm_store_key { uint64_t lo, hi; } cm_store_key;
typedef struct cm_store cm_store;

typedef struct cm_store_params {
    size_t         dim;          /* row width (create, and checked on open; 0 on open: take the store's) */
    cm_store_dtype dtype;        /* row type when creating (default float32) */
    const char    *tag;          /* what the rows are (a model fingerprint); checked on open when non-NULL */
    int            writable;     /* 1: may append (creates the folder when missing); default 0 */
    size_t         map_max;      /* rows.bin is mapped when at most this many bytes, else read with pread
                                    (default 1 GiB: keeps address space small under ulimit -v) */
    size_t         index_every;  /* rebuild the index when this many logged keys are outside it (default 65536) */
} cm_store_params;

cm_store_params cm_store_default_params(void);

/* 1 when dir holds a store (a head file), else 0. */
int cm_store_exists(const char *dir);

/* Opens (or, writable, creates) the store in dir. Errors name the file and
 * what was expected: a damaged head, a dim/dtype/tag other than asked for,
 * files shorter than head says. Caller frees with cm_store_close. */
int  cm_store_open(cm_store **out, const char *dir, const cm_store_params *params);
void cm_store_close(cm_store *s);   /* NULL is fine */

size_t         cm_store_dim(const cm_store *s);
cm_store_dtype cm_store_get_dtype(const cm_store *s);
size_t         cm_store_rows(const cm_store *s);   /* committed rows */
size_t         cm_store_keys(const cm_store *s);   /* committed key entries */
const char    *cm_store_tag(const cm_store *s);    /* borrowed until close */
const char    *cm_store_dir(const cm_store *s);    /* borrowed until close */

/* Replaces the tag (copied); it reaches the disk with the next commit. */
int cm_store_set_tag(cm_store *s, const char *tag);

/* The label NaN/Inf errors start with (default DIR/rows.bin); copied. */
int cm_store_set_label(cm_store *s, const char *label);

/* The 128-bit key of (role, instruction, text): role -1 none, 0 query,
 * 1 document; instruction NULL or "" for none. The embedding cache's keys. */
cm_store_key cm_store_key_text(int role, const char *instruction, const char *text);

/* The row of key (committed or staged) as *row; 1 found, 0 not found. */
int cm_store_find(const cm_store *s, cm_store_key key, size_t *row);

/* Hints only (no effect on results): start fetching the index slot key hashes to, or the first bytes of
 * row, so that a following cm_store_find / cm_store_read finds them in cache. Lookups of many scattered keys
 * issue these a few keys ahead (each find is otherwise a cache and TLB miss into a large index). */
void cm_store_prefetch_key(const cm_store *s, cm_store_key key);
void cm_store_prefetch_row(const cm_store *s, size_t row);

/* Reads rows [row, row + n) as float32 into out (n, dim), staged rows
 * included; CM_ERR_NUMERIC naming the first NaN/Inf value (label: value
 * FLAT_INDEX is NaN (row R, column C)); CM_ERR_ARG past the end. */
int cm_store_read(const cm_store *s, size_t row, size_t n, float *out);

/* Points *out at row's float32 values inside the store's mapping of rows.bin (valid until cm_store_close), after
 * the same NaN/Inf check as cm_store_read (same error). CM_ERR_UNSUPPORTED (no message) when the row cannot be
 * lent: a float16 store, rows.bin read with pread, or a staged row; read it with cm_store_read then. */
int cm_store_view(const cm_store *s, size_t row, const float **out);

/* Stages one row (float32 vec (dim), stored as the store's dtype) with
 * nkeys keys (0 or more; a key already present is kept pointing at its old
 * row). The row is found and read at once, and on disk after the next
 * commit. *row (may be NULL) receives its number (final unless another
 * process commits first). */
int cm_store_add(cm_store *s, const float *vec, const cm_store_key *keys, size_t nkeys, size_t *row);
/* As cm_store_add with a row already in the store's dtype (dim elements of
 * 4 or 2 bytes). */
int cm_store_add_raw(cm_store *s, const void *raw, const cm_store_key *keys, size_t nkeys, size_t *row);

size_t cm_store_staged(const cm_store *s);         /* rows staged, not committed */
size_t cm_store_staged_bytes(const cm_store *s);   /* memory they hold */

/* Makes the staged rows and keys durable: rows and keys written and
 * fsync'd, then head replaced. Rebuilds the index when due. */
int cm_store_commit(cm_store *s);
/* Commits, then rebuilds the index so that it covers every key. */
int cm_store_reindex(cm_store *s);

/* Removes the store folder dir (its files, then the folder; a store holds no subfolders); a missing folder
 * is fine. The store must not be open. */
void cm_store_remove(const char *dir);

/* Stages into dst every committed key of src with its row (a row with several keys is copied once per key;
 * keys dst already holds are skipped), committing along the way so that staged rows stay under 64 MiB.
 * The widths must match. The caller commits the rest. */
int cm_store_copy_from(cm_store *dst, const cm_store *src);

#ifdef __cplusplus
}
#endif

#endif
