/*
 * precomputed_index.h: turning DIR/texts.jsonl + DIR/embeddings.npy into a
 * vector store once (precomputed_index.c), for the precomputed backend.
 *
 * Row i of the store is row i of embeddings.npy (float32 or float16 as the
 * file has it); its key is cm_store_key_text(role, NULL, text) with role -1
 * when the line has none. The store's tag is "FINGERPRINT\nSTAMP": the
 * backend's fingerprint (precomputed-v2-N-DIM-HASH of the float32 values)
 * and the two files' size, mtime and inode, so a changed file is noticed
 * and indexed again.
 */
#ifndef CMTEB_ENGINE_PRECOMPUTED_INDEX_H
#define CMTEB_ENGINE_PRECOMPUTED_INDEX_H

#include "cmteb/store.h"

/* The stamp of dir's two source files into out (caller frees *out). */
int pre_source_stamp(const char *dir, char **out);

/* Builds the store for dir at store_dir (in a temporary folder renamed into
 * place: a killed build leaves no half store). stamp from pre_source_stamp. */
int pre_build_store(const char *dir, const char *store_dir, const char *stamp);

#endif
