/*
 * embedder.h: what evaluators call to turn texts into vectors.
 *
 * The embedder wraps an encoder with: de-duplication inside a call, an
 * on-disk embedding cache keyed by (encoder fingerprint, role, instruction,
 * text) so that a rerun or another task never embeds a text twice, batching,
 * a finite-value check, and progress reporting.
 *
 * Ownership: cm_embedder_init borrows the encoder (it must outlive the
 * embedder); cm_embedder_free releases the embedder and flushes the cache.
 */
#ifndef CMTEB_EMBEDDER_H
#define CMTEB_EMBEDDER_H

#include <stddef.h>

#include "cmteb/encoder.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cm_embedder_params {
    const char *cache_dir;   /* NULL: no cache */
    int         batch_size;  /* texts handed to the encoder at a time (default 64) */
    int         quiet;       /* no progress output */
    int         use_instructions; /* -1: what the encoder says; 0: never; 1: always pass them */
} cm_embedder_params;

cm_embedder_params cm_embedder_default_params(void);

typedef struct cm_embedder cm_embedder;

int  cm_embedder_init(cm_embedder **out, cm_encoder *enc, const cm_embedder_params *params);
/* Embeds texts[0..n) into out, (n, dim) float32 row-major, caller-allocated.
 * instruction is the task instruction (NULL for none); whether it reaches the
 * encoder depends on use_instructions. label names the work for progress
 * ("STSBenchmark: sentences"). */
int  cm_embed(cm_embedder *e, const char *const *texts, size_t n, cm_role role,
              const char *instruction, const char *label, float *out);
size_t cm_embedder_dim(const cm_embedder *e);

/* As cm_embed, without copying where it can: rows[i] gets text i's (dim)
 * float32 vector. When the embedder has no cache and no slice and the encoder
 * lends its rows (cm_encoder_view: a precomputed float32 store), rows[i] are
 * the encoder's (valid while the embedder lives) and buf is not touched;
 * otherwise, with buf (n, dim) non-NULL, the vectors are cm_embed'ed into buf
 * and rows[i] = buf + i * dim; with buf NULL, CM_ERR_UNSUPPORTED (no message)
 * and nothing embedded. Same vectors and errors as cm_embed. */
int  cm_embed_view(cm_embedder *e, const char *const *texts, size_t n, cm_role role, const char *instruction,
                   const char *label, float *buf, const float **rows);

/* Slice mode, for one task of a sharded run (cmteb run --shard I/N): until cm_embedder_slice_end, cm_embed
 * computes only the texts of slice i of n (a hash of role and text decides) and adds their vectors to the
 * vector store in store_dir (created when missing; keyed as the precomputed backend looks texts up, so that
 * "precomputed:" over the union of the slices' stores gives every vector); the other texts get placeholder
 * vectors (finite, unit length, a function of the text) that are neither cached nor stored. An evaluation
 * run on them means nothing: it only makes the evaluator ask for its texts. */
int cm_embedder_slice_begin(cm_embedder *e, size_t i, size_t n, const char *store_dir);
/* Commits the slice's store (also after an error) and leaves slice mode; *n_stored (may be NULL): the keys
 * the store holds. */
int cm_embedder_slice_end(cm_embedder *e, size_t *n_stored);
/* Bytes the embedder may hold between calls: the embedding cache's
 * uncommitted rows (at most 16384 x dim floats; 0 without a cache). */
size_t cm_embedder_reserve_bytes(const cm_embedder *e);
const cm_encoder_info *cm_embedder_info(const cm_embedder *e);

typedef struct cm_embedder_stats {
    size_t requested;  /* texts asked for */
    size_t unique;     /* after de-duplication within calls */
    size_t cache_hits; /* served from the cache */
    size_t encoded;    /* sent to the encoder */
    double encode_seconds;
} cm_embedder_stats;

cm_embedder_stats cm_embedder_get_stats(const cm_embedder *e);
/* Stores a vector computed elsewhere (cmteb compare: a sibling variant's
 * pooling of the same forward pass) in the cache under (role, instruction as
 * the encoder receives it, NULL for none, text). vec (dim floats) is copied
 * and checked finite. Returns 1 when stored, 0 when the cache already holds
 * the text or there is no cache, < 0 on error. Stored vectors are written
 * with cm_embed's flush policy and seen by cm_embed after the next flush. */
int  cm_embedder_put(cm_embedder *e, cm_role role, const char *instruction, const char *text, const float *vec);
/* Writes pending cache entries to disk (atomically). */
int  cm_embedder_flush(cm_embedder *e);
void cm_embedder_free(cm_embedder *e);

#ifdef __cplusplus
}
#endif
#endif
