/*
 * evaluator.h: the interface of the task evaluators (tasks/).
 *
 * An evaluator loads its task's data from ctx->data_folder, embeds through
 * ctx->embedder, and fills `scores` (an empty cJSON object) with one split's
 * metrics in the current MTEB results layout: flat keys as MTEB writes them
 * (e.g. "cosine_spearman", "ndcg_at_10", "accuracy") plus "main_score". The
 * run orchestration adds hf_subset and languages and writes the file.
 *
 * Per-item data for paired significance tests (cmteb compare / check) go in
 * ctx->items when it is not NULL, an empty object the evaluator fills with
 * what recomputing the main score on a resample needs:
 *   {"kind": "mean",     "ids": [...], "values": [...]}   main = mean(values)
 *   {"kind": "spearman", "pred": [...], "gold": [...]}    main = spearman(pred, gold)
 *   {"kind": "ap",       "scores": [...], "labels": [...]} main = AP(labels, scores)
 * (ids are strings; optional for "spearman"/"ap"). Evaluators that cannot
 * express their main score this way leave it empty.
 *
 * Every task type has one evaluator behind the cm_evaluator_i table
 * (tasks/registry.c); its settings are already checked and typed when the
 * task was parsed (task->settings, cmteb/task_settings.h), and run-wide
 * options come typed in ctx->options (cm_eval_options).
 *
 * Ownership: everything in ctx is borrowed; the evaluator owns nothing it
 * does not allocate itself.
 */
#ifndef CMTEB_EVALUATOR_H
#define CMTEB_EVALUATOR_H

#include <cjson/cJSON.h>

#include "cmteb/embedder.h"
#include "cmteb/task.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Run-wide evaluator options (cmteb run's evaluator flags, README.md "The
 * command line"); start from cm_eval_default_options(). Strings are borrowed. */
typedef struct cm_eval_options {
    const char *retrieval_index;        /* FAISS factory string; NULL: exact "Flat" */
    const char *retrieval_index_params; /* FAISS search parameters ("nprobe=64"); NULL: none */
    int         clustering_protocol;    /* cm_clustering_protocol, or -1: the task's setting "protocol" */
    size_t      corpus_chunk_size;      /* retrieval documents per chunk; 0: the task's setting */
    size_t      mem_budget;             /* retrieval memory budget in bytes, 0: none; the chunk size is
                                           derived from it unless corpus_chunk_size is set */
    size_t      predictions_top_k;      /* retrieval hits per query written as a TREC run (capped at
                                           max(k_values)); 0: none */
    const char *predictions_prefix;     /* where those go: PREFIX[.<subset>].<split>.trec; needed when
                                           predictions_top_k is set (cm_run_tasks sets it per task) */
    size_t      shard_index, shard_count; /* retrieval: shard_count > 0 searches only shard_index's corpus
                                           slice and writes its hits to shard_prefix (tasks/retrieval/shard.h) */
    const char *shard_prefix;           /* PREFIX[.<subset>].<split>.hits (set per task by cm_run_tasks) */
    const char *const *merge_prefixes;  /* retrieval: n_merge > 0 embeds nothing and merges those shards' hits */
    size_t      n_merge;
} cm_eval_options;

/* Every option off: exact retrieval, the tasks' own settings. */
cm_eval_options cm_eval_default_options(void);

typedef struct cm_eval_ctx {
    cm_embedder *embedder;
    const char  *data_folder;   /* resolved folder of the task's data */
    int          threads;       /* 0: all cores */
    int          quiet;         /* 1: no progress notes through cm_log, even with a sink installed */
    const cm_eval_options *options; /* NULL: cm_eval_default_options() */
    cJSON       *items;         /* NULL or an empty object for per-item data (see above) */
} cm_eval_ctx;

typedef int (*cm_evaluate_fn)(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores);

/* One task type's evaluator: the type's description (name, settings schema,
 * default main score: datasets/task_settings.c) and the function that fills
 * one split's scores. */
typedef struct cm_evaluator_i {
    cm_task_type             type;
    const cm_task_type_info *info;
    cm_evaluate_fn           evaluate;
} cm_evaluator_i;

int cm_eval_classification(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores);
int cm_eval_clustering(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores);
int cm_eval_pairclassification(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores);
int cm_eval_reranking(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores);
int cm_eval_retrieval(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores);
int cm_eval_sts(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores);
int cm_eval_summarization(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores);

/* The evaluator of a type (static, borrowed); NULL for an unknown type. */
const cm_evaluator_i *cm_evaluator_for(cm_task_type t);

/* Rounds as MTEB's results show some metrics (round(x, 5)); helper for evaluators. */
double cm_round5(double x);

#ifdef __cplusplus
}
#endif
#endif
