/*
 * embed_cache.h: the on-disk embedding cache.
 *
 * Layout: CACHE_DIR/<16-hex hash of the encoder fingerprint>/
 *   meta.json           {"format": 1, "fingerprint": "...", "dim": D}
 *   seg-<16hex>.bin     segments, each written atomically (temp file + rename)
 *
 * Segment format (little-endian), version 1:
 *   char     magic[8]   "CMTBEMB1"
 *   uint32   version    1
 *   uint32   dim
 *   uint64   count
 *   uint64   keys[count][2]      128-bit keys (hash of role, instruction, text)
 *   float32  vecs[count][dim]
 *   uint64   checksum            cm_hash64 of all bytes before it
 * Segments are memory-mapped at open; a segment that fails its checksum or
 * magic is ignored with a warning (it cannot be produced by a crash, since
 * segments appear only by rename, but disks and people do odd things). When
 * more than 64 segments exist they are merged into one at open.
 *
 * Ownership: cm_cache_open allocates the cache, cm_cache_close frees it
 * (pending vectors are dropped: call cm_cache_flush first). Vectors returned by cm_cache_get are borrowed and valid
 * until close.
 */
#ifndef CMTEB_EVAL_EMBED_CACHE_H
#define CMTEB_EVAL_EMBED_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct cm_cache_key { uint64_t lo, hi; } cm_cache_key;
typedef struct cm_cache cm_cache;

int  cm_cache_open(cm_cache **out, const char *cache_dir, const char *fingerprint, size_t dim);
cm_cache_key cm_cache_make_key(int role, const char *instruction, const char *text);
/* The cached vector for key, or NULL. */
const float *cm_cache_get(const cm_cache *c, cm_cache_key key);
/* Adds a vector (copied); written at the next flush. */
int  cm_cache_put(cm_cache *c, cm_cache_key key, const float *vec);
/* Writes pending vectors as one new segment. */
int  cm_cache_flush(cm_cache *c);
size_t cm_cache_size(const cm_cache *c);
size_t cm_cache_pending(const cm_cache *c);
void cm_cache_close(cm_cache *c);

#endif
