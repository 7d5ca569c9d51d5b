/*
 * shard.h: sharded retrieval (`cmteb run --shard i/n`, `cmteb merge`, MPI).
 *
 * Shard i of n embeds every query and the contiguous corpus slice
 * [n_docs*i/n, n_docs*(i+1)/n) (documents in file order), searches it exactly
 * as the single run searches its chunks, and writes every query's top-k hits
 * (scores as hexadecimal floats, so they read back bit for bit) to a hits file
 * PREFIX[.SUBSET].SPLIT.hits:
 *
 *   cmteb-shard-hits 1
 *   shard I N docs LO HI top_k K queries NQ
 *   q <query id> <TAB> <hits>          (NQ blocks, in the evaluator's query order)
 *   <score %a> <TAB> <doc id>          (hits lines, best first)
 *   end
 *
 * The merge reads the n files of a folder, checks that they are shards 0..n-1
 * of the same queries and top_k, and keeps per query the top_k of the union
 * under the single run's total order: score descending, then doc id
 * descending (strcmp), which is the order search.c's heaps keep (Python's
 * heapq over (score, id) tuples). So an exact (Flat) search gives the single
 * run's hits exactly, as long as every chunk's FAISS top-(k+1) holds all
 * documents tied at its boundary (as for the single run itself).
 *
 * Ownership: cm_shard_hits_read returns a handle freed with
 * cm_shard_hits_free; the ids and scores it hands out are borrowed from it.
 */
#ifndef CMTEB_TASKS_RETRIEVAL_SHARD_H
#define CMTEB_TASKS_RETRIEVAL_SHARD_H

#include <stddef.h>

#include "tasks/retrieval/search.h"

/* The slice [*lo, *hi) of n_docs documents that shard i of n owns: whole
 * units of grid documents, units split as evenly as they go. The exact
 * search (topk.c) scores a document the same wherever it sits, so its grid
 * is 1; FAISS's exact index (faiss_exact, not reachable from the CLI) needs
 * whole chunks (grid corpus_chunk_size) to compute every score in the same
 * place of the same block. Fewer units than shards leave the last shards
 * empty. */
void cm_shard_slice(size_t n_docs, size_t grid, size_t i, size_t n, size_t *lo, size_t *hi);

/* Keeps the part of a batch of n documents (the corpus' documents
 * *seen .. *seen+n-1) inside shard i of n's slice of n_docs (cm_shard_slice
 * with grid): advances *ids and *texts (borrowed arrays) to its first
 * document and returns how many; adds n to *seen. */
size_t cm_shard_clip(size_t i, size_t n_shards, size_t n_docs, size_t grid, size_t *seen, const char *const **ids,
                     const char *const **texts, size_t n);

/* The hits file of PREFIX, SUBSET (may be NULL) and SPLIT; caller frees. */
char *cm_shard_hits_path(const char *prefix, const char *subset, const char *split);

/* Writes the finished search s (queries qids (nq), in the order s has them)
 * as shard i of n over documents [lo, hi) to path, atomically. */
int cm_shard_hits_write(const char *path, const cm_search *s, const char *const *qids, size_t nq, size_t top_k,
                        size_t i, size_t n, size_t lo, size_t hi);

typedef struct cm_shard_hits cm_shard_hits;

/* Reads the hits files paths (n_paths, any order: they must be shards 0..n-1
 * of one split) for the queries qids (nq, in order) and merges them into the
 * top_k per query. Errors name the file, line and what was expected. */
int cm_shard_hits_read(cm_shard_hits **out, const char *const *paths, size_t n_paths, const char *const *qids,
                       size_t nq, size_t top_k);
/* Query q's merged hits, best first: *doc_ids (n), *scores (n); returns n. Borrowed. */
size_t cm_shard_hits_get(const cm_shard_hits *h, size_t q, const char *const **doc_ids, const float **scores);
void cm_shard_hits_free(cm_shard_hits *h);

#endif
