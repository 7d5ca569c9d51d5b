/*
 * results.h: results files in the current MTEB layout.
 *
 *   OUTPUT/<org>__<model>/<revision>/<TaskName>.json
 *   OUTPUT/<org>__<model>/<revision>/model_meta.json
 *   OUTPUT/<org>__<model>/<revision>/.cmteb/<TaskName>.items.json   (per-item side file)
 *
 * A task file reads, as mteb >= 1.12 writes it:
 *   {"dataset_revision": "...", "task_name": "STSBenchmark", "mteb_version": "cmteb-0.1.0",
 *    "scores": {"test": [{"cosine_spearman": 0.78, ..., "main_score": 0.78,
 *                         "hf_subset": "default", "languages": ["eng-Latn"]}]},
 *    "evaluation_time": 12.3, "kg_co2_emissions": null}
 * plus a "cmteb" object with provenance (model spec, fingerprint, settings,
 * instruction used, data folder) that MTEB's loaders ignore.
 *
 * All writes are atomic (temporary file + rename): an interrupted run never
 * leaves a half-written result, and a rerun skips tasks whose file exists.
 */
#ifndef CMTEB_RESULTS_H
#define CMTEB_RESULTS_H

#include <cjson/cJSON.h>

#include "cmteb/encoder.h"
#include "cmteb/task.h"

#ifdef __cplusplus
extern "C" {
#endif

/* OUTPUT/<org>__<model>/<revision> for a model; caller frees. "/" in the
 * model name becomes "__", other characters unsafe in paths become "_". */
char *cm_results_model_dir(const char *output_dir, const char *model_name, const char *revision);

/* The path of a task's result file under model_dir; caller frees. */
char *cm_results_task_path(const char *model_dir, const char *task_name);

/* Writes model_meta.json (name, revision, embed_dim, max_tokens,
 * similarity_fn_name "cosine", use_instructions, loader, n_parameters). */
int cm_results_write_model_meta(const char *model_dir, const cm_encoder_info *info, const cJSON *extra);

/* Writes one task's file. scores is the split entry (flat metrics +
 * main_score); hf_subset and languages are added from the task. provenance
 * (may be NULL) goes under "cmteb". items (may be NULL) goes to the side file. */
int cm_results_write_task(const char *model_dir, const cm_task *task, const cJSON *scores,
                          double evaluation_time, const cJSON *provenance, const cJSON *items);

#ifdef __cplusplus
}
#endif
#endif
