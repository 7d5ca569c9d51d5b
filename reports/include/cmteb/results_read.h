/*
 * results_read.h: reading MTEB results folders back, in either layout.
 *
 * Two layouts exist:
 *   v1 (mteb <= ~1.10):  results/<model>/[<revision>/]<Task>.json whose split
 *                        keys hold the evaluator's nested dict,
 *                        {"test": {"cos_sim": {"ap": 0.87}}} or, per language,
 *                        {"test": {"en-en": {"cos_sim": {...}}}}
 *   current (>= 1.11):   results/<org>__<model>/<revision>/<Task>.json with
 *                        "scores": {"<split>": [{"hf_subset": ..., flat
 *                        metrics ..., "main_score": x}]} plus model_meta.json
 * The layout is detected per file, so a folder may mix them.
 *
 * For each task the reader picks the number the MTEB(eng, v1) leaderboard
 * used: the catalog task's leaderboard_metric (accuracy, v_measure,
 * cosine_ap, map, ndcg_at_10, cosine_spearman) in the task's split and
 * hf_subset. Metric names are matched across the spellings mteb used over
 * time (cosine_ap = cos_sim_ap = {"cos_sim": {"ap"}}), and when the task's
 * split or subset is absent the reader falls back (the only split present,
 * e.g. NV-Embed's MSMARCO stored under "test"; the split's top level when a
 * v1 file has no per-language nesting) and records which key it used and
 * why in cm_task_score.note. Files whose numbers are already x100 (the
 * model-card conversions in the public results repository) are detected and
 * scaled back to fractions. CQADupstackRetrieval, when absent as one file, is
 * the mean of its 12 CQADupstack*Retrieval subforum files.
 *
 * Ownership: cm_model_results_load allocates the result and
 * cm_model_results_free releases it (NULL is fine); the catalog is borrowed
 * during the call only.
 */
#ifndef CMTEB_REPORTS_RESULTS_READ_H
#define CMTEB_REPORTS_RESULTS_READ_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cmteb/task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cm_results_layout {
    CM_LAYOUT_UNKNOWN = 0,
    CM_LAYOUT_V1      = 1,   /* split keys at the top level, nested metrics */
    CM_LAYOUT_CURRENT = 2,   /* "scores": {split: [entries]} */
} cm_results_layout;

const char *cm_results_layout_name(cm_results_layout l);   /* "v1", "current", "unknown" */

/* One task's score as read from a results file. */
typedef struct cm_task_score {
    char  *task;      /* task name (the catalog's spelling when known) */
    double value;     /* the score as a fraction (x100 files are scaled back); NaN when not found */
    char  *key;       /* metric key used: "cos_sim.ap" (nested), "cosine_ap", "main_score", ... */
    char  *split;     /* split used */
    char  *subset;    /* hf_subset used ("default" when none) */
    char  *note;      /* NULL, or why a fallback was taken / why no value was found */
    char  *path;      /* the file read */
    cm_results_layout layout;
    int    percent;   /* 1 when the file stored x100 values */
} cm_task_score;

/* What to pick from a file: the task's split, subset and metric. */
typedef struct cm_score_spec {
    const char *split;    /* e.g. "test", "dev" */
    const char *subset;   /* NULL or "default": no subset */
    const char *metric;   /* flat name as the current layout spells it, e.g. "cosine_ap" */
} cm_score_spec;

/* The spec for a catalog task (split, subset, leaderboard_metric); with a
 * NULL task: split "test", no subset, metric "main_score". Borrows from t. */
cm_score_spec cm_score_spec_for(const cm_task *t);

/* Detects the layout of a parsed results file. */
cm_results_layout cm_results_detect_layout(const cJSON *root);

/* The task name a results file declares ("task_name" in the current layout,
 * "mteb_dataset_name" in v1); NULL when it declares none. Borrowed from root. */
const char *cm_results_declared_task(const cJSON *root);

/* Picks the score spec asks for out of a parsed results file. Fills out
 * (value NaN and a note when nothing fits; that is not an error). path only
 * labels messages. Returns CM_ERR_FORMAT when root is not a results file.
 * out's strings are allocated; release them with cm_task_score_clear. */
int  cm_task_score_pick(const cJSON *root, const cm_score_spec *spec, const char *path, cm_task_score *out);
void cm_task_score_clear(cm_task_score *s);

/* A model's results: one folder holding task files. */
typedef struct cm_model_results {
    char          *name;       /* "org/model" (model_meta.json, else from the folder names) */
    char          *revision;   /* NULL when unknown */
    char          *label;      /* column label (name, plus the revision when the caller asks) */
    char          *dir;        /* the folder the task files are in */
    cm_task_score *scores;     /* one per task found, in file-name order */
    size_t         n_scores, cap_scores;       /* cap_*: capacities (cmteb/array.h) */
    char         **warnings;   /* files skipped and why */
    size_t         n_warnings, cap_warnings;
} cm_model_results;

/* Loads every task file in folder (a folder holding <Task>.json files
 * directly). Tasks known to cat (may be NULL) are read with their catalog
 * spec; others with "main_score" of split "test". A file that is not JSON is
 * an error naming file:line; a JSON file that is not a results file is
 * skipped with a warning. */
int  cm_model_results_load(cm_model_results **out, const char *folder, const cm_catalog *cat);
/* The score of a task (exact name, then case-insensitive); NULL if absent. Borrowed. */
const cm_task_score *cm_model_results_get(const cm_model_results *m, const char *task);
void cm_model_results_free(cm_model_results *m);

/* 1 when name is one of the 12 CQADupstack<Forum>Retrieval subforum tasks
 * that CQADupstackRetrieval averages (a report counts them once, as that mean). */
int  cm_results_is_cqadupstack_part(const char *name);

/* Finds model folders under dir: dir itself when it holds task files, else
 * its sub-folders (and their sub-folders) that do, so dir may be a model
 * folder (v1 flat), a model folder with revision sub-folders (current
 * layout), or a results root holding many models. Hidden folders (.cmteb)
 * are skipped. *folders is a new array of new strings, sorted; release with
 * cm_results_free_folders. An empty result is CM_ERR_NOTFOUND naming dir. */
int  cm_results_find_models(const char *dir, char ***folders, size_t *n);
void cm_results_free_folders(char **folders, size_t n);

#ifdef __cplusplus
}
#endif
#endif
