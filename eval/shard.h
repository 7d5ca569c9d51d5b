/*
 * shard.h: sharded runs and their merge (`cmteb run --shard i/n`, `cmteb merge`, `mpirun ... cmteb run`).
 *
 * A shard run writes into its own results root, in the usual model folder
 * MODEL_DIR = OUTPUT/<org>__<model>/<revision>:
 *   MODEL_DIR/.cmteb/shard.json                     manifest: shard i of n, model fingerprint, the tasks
 *                                                   (name, type, task file), the evaluator options
 *   MODEL_DIR/.cmteb/shard/<Task>[.<subset>].<split>.hits   retrieval: every query's top-k over this
 *                                                   shard's corpus slice (tasks/retrieval/shard.h)
 *   MODEL_DIR/.cmteb/shard/<Task>.json              retrieval: the shard's seconds and the provenance the
 *                                                   merged result records
 *   MODEL_DIR/.cmteb/shard/<Task>.vectors/          other task types: the vectors of this shard's slice of the
 *                                                   task's texts (a vector store; the embedder's slice mode: a
 *                                                   hash of role and text picks the shard), and <Task>.json
 *                                                   as for retrieval
 * cm_shard_merge reads the n shard folders and writes into OUTPUT the files
 * one unsharded run writes: the retrieval tasks scored from the merged
 * per-query top-k, the others evaluated over the union of the shards'
 * slices (precomputed: over one store gathered from them, removed after),
 * model_meta.json copied from shard 0. Only evaluation_time differs (the
 * slowest shard's seconds plus the merge's). Shard folders of the older
 * layout (shard 0 evaluated the other tasks whole) still merge: their
 * result files are copied.
 *
 * Ownership: paths returned are the caller's to free; everything passed in is borrowed.
 */
#ifndef CMTEB_EVAL_SHARD_H
#define CMTEB_EVAL_SHARD_H

#include <stddef.h>

#include "eval/run.h"

/* Parses "I/N" (0 <= I < N <= 65536) into *i, *n; CM_ERR_ARG with a message otherwise. */
int cm_shard_parse(const char *spec, size_t *i, size_t *n);

/* MODEL_DIR/.cmteb/shard/<Task>.json and the prefix of that task's hits files; caller frees. */
char *cm_shard_task_path(const char *model_dir, const char *task_name);
char *cm_shard_task_prefix(const char *model_dir, const char *task_name);

/* Writes MODEL_DIR/.cmteb/shard.json for shard i of n over tasks (n_tasks); keep_items: the run writes
 * per-item side files (so does the merge). */
int cm_shard_write_manifest(const char *model_dir, size_t i, size_t n, const cm_task *const *tasks, size_t n_tasks,
                            const cm_encoder_info *info, const cm_eval_options *options, int keep_items);

/* Writes MODEL_DIR/.cmteb/shard/<Task>.json: shard i of n took seconds; provenance (borrowed) is recorded. */
int cm_shard_write_task(const char *model_dir, const char *task_name, size_t i, size_t n, double seconds,
                        const cJSON *provenance);

typedef struct cm_merge_params {
    const char *output_dir;   /* results root the merged files go to (default "results") */
    int         threads;      /* 0: all cores */
    int         quiet;
} cm_merge_params;

cm_merge_params cm_merge_default_params(void);

/* Merges the shard folders dirs (n_dirs: each a results root holding one
 * shard's model folder, or that model folder) into p->output_dir. The
 * summary (freed with cm_run_summary_free) borrows its tasks from *cat,
 * which the caller frees with cm_catalog_free after it. A task that cannot
 * be merged is reported in the summary; errors that stop everything (the
 * folders are not one complete set of shards) are returned. */
int cm_shard_merge(const char *const *dirs, size_t n_dirs, const cm_merge_params *p, cm_catalog **cat,
                   cm_run_summary *summary);

#endif
