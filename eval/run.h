/*
 * run.h: the run orchestration behind `cmteb run` (and `cmteb compare`).
 *
 * For each task: skip it when its result file exists (resume; --overwrite
 * re-evaluates), else resolve its data folder, call its evaluator through an
 * embedder, and write the result file, the per-item side file and
 * model_meta.json atomically. A failing task is reported and the others
 * still run; the summary says which failed.
 *
 * Ownership: everything passed in is borrowed; cm_run_summary_free releases
 * what cm_run_tasks put in the summary.
 */
#ifndef CMTEB_EVAL_RUN_H
#define CMTEB_EVAL_RUN_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "cmteb/embedder.h"
#include "cmteb/evaluator.h"
#include "cmteb/task.h"

typedef struct cm_run_params {
    const char *data_dir;      /* where catalog datasets live (default "data") */
    const char *output_dir;    /* results root (default "results") */
    const char *model_spec;    /* recorded in provenance */
    const char *model_dir;     /* NULL: OUTPUT/<org>__<model>/<revision> from the encoder info */
    int         threads;
    int         batch_size;
    int         quiet;
    int         overwrite;     /* re-evaluate tasks whose result exists */
    int         keep_items;    /* write the per-item side files (default 1) */
    cm_eval_options eval_options; /* passed to evaluators (default cm_eval_default_options());
                                     predictions_prefix is set per task when predictions_top_k is;
                                     the options set are recorded in each result's provenance */
    const cJSON *settings;     /* engine settings recorded in provenance; may be NULL */
    size_t      shard_index;   /* shard_count > 0: this run is shard shard_index of shard_count (eval/shard.h): */
    size_t      shard_count;   /* retrieval tasks search one corpus slice and write hits for cmteb merge;
                                  the other tasks embed one hash slice of their texts for it (shard.h) */
} cm_run_params;

cm_run_params cm_run_default_params(void);

/* The evaluator options that differ from the defaults, as the JSON object a
 * result's provenance records ("cmteb" -> "options"); caller deletes. */
cJSON *cm_eval_options_to_json(const cm_eval_options *o);

typedef struct cm_run_task_result {
    const cm_task *task;
    int     status;            /* CM_OK, or the failure code */
    int     skipped;           /* 1: result existed (resumed) */
    double  main_score;        /* fraction; NaN when failed */
    double  seconds;
    char   *error;             /* message when failed */
} cm_run_task_result;

typedef struct cm_run_summary {
    cm_run_task_result *results;
    size_t n, n_failed, n_skipped;
    int    interrupted;         /* stopped by SIGINT/SIGTERM */
    char  *model_dir;
    int    locked, lock_fd;     /* the model folder's lock (cm_dir_lock) when locked, held until
                                   cm_run_summary_free */
} cm_run_summary;

int  cm_run_tasks(cm_embedder *emb, const cm_task *const *tasks, size_t n, const cm_run_params *p,
                  cm_run_summary *summary);
/* Prints the results table (task, type, main score x100, seconds, status). */
void cm_run_print_table(const cm_run_summary *s, FILE *f);
void cm_run_summary_free(cm_run_summary *s);

#endif
