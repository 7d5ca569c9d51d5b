/*
 * embed_cache.h: the on-disk embedding cache, a vector store (cmteb/store.h).
 *
 * Layout: CACHE_DIR/<16-hex hash of the encoder fingerprint>/
 *   meta.json    {"format": 2, "fingerprint": "...", "dim": D}; a folder
 *                whose meta.json names another fingerprint or dim is an
 *                error (never mixed)
 *   store/       the vectors: float32 rows, key = cm_cache_make_key(role,
 *                instruction, text) (the same 128-bit keys as format 1),
 *                tag = the fingerprint
 * cm_cache_flush commits (rows and keys fsync'd, then the store's head
 * replaced), so kill -9 loses at most what was not flushed; the next open
 * sees the last commit and a rerun resumes from it.
 *
 * Format 1 caches (seg-<16hex>.bin segments: "CMTBEMB1", version, dim,
 * count, keys, vectors, checksum) are read once at open: every valid
 * segment is copied into the store, committed, then removed, with an INFO
 * line; a damaged one is skipped with a warning (as format 1 did).
 *
 * Ownership: cm_cache_open allocates the cache, cm_cache_close frees it
 * (pending vectors are dropped: call cm_cache_flush first).
 */
#ifndef CMTEB_EVAL_EMBED_CACHE_H
#define CMTEB_EVAL_EMBED_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "cmteb/store.h"

typedef cm_store_key cm_cache_key;
typedef struct cm_cache cm_cache;

int  cm_cache_open(cm_cache **out, const char *cache_dir, const char *fingerprint, size_t dim);
cm_cache_key cm_cache_make_key(int role, const char *instruction, const char *text);
/* Copies the cached vector for key into out (dim floats): 1 found, 0 not
 * cached, or an error (CM_ERR_NUMERIC for a row that is not finite). */
int  cm_cache_get(const cm_cache *c, cm_cache_key key, float *out);
/* 1 when key is cached (or pending), else 0. */
int  cm_cache_has(const cm_cache *c, cm_cache_key key);
/* Adds a vector (copied); on disk at the next flush. */
int  cm_cache_put(cm_cache *c, cm_cache_key key, const float *vec);
/* Commits pending vectors to the store. */
int  cm_cache_flush(cm_cache *c);
size_t cm_cache_size(const cm_cache *c);
size_t cm_cache_pending(const cm_cache *c);
void cm_cache_close(cm_cache *c);

#endif
