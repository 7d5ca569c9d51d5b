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

typedef struct cm_eval_ctx {
    cm_embedder *embedder;
    const char  *data_folder;   /* resolved folder of the task's data */
    int          threads;       /* 0: all cores */
    int          quiet;
    cJSON       *options;       /* run-wide evaluator options (object, may be empty):
                                   "retrieval_index": "Flat"|"HNSW32"|"IVF4096,Flat"...,
                                   "clustering_protocol": "v1"|"fast", ... */
    cJSON       *items;         /* NULL or an empty object for per-item data (see above) */
} cm_eval_ctx;

typedef int (*cm_evaluate_fn)(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores);

int cm_eval_classification(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores);
int cm_eval_clustering(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores);
int cm_eval_pairclassification(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores);
int cm_eval_reranking(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores);
int cm_eval_retrieval(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores);
int cm_eval_sts(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores);
int cm_eval_summarization(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores);

/* The evaluator of a type. */
cm_evaluate_fn cm_evaluator_for(cm_task_type t);

/* Rounds as MTEB's results show some metrics (round(x, 5)); helper for evaluators. */
double cm_round5(double x);

#ifdef __cplusplus
}
#endif
#endif
