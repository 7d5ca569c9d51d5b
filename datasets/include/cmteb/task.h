/*
 * task.h: task definitions and the task catalog.
 *
 * A task is one JSON object (the same schema for the built-in catalog, the
 * demo tasks and user --task-file files; README.md "Task files" documents it):
 *
 *   {"name": "STSBenchmark", "type": "STS",
 *    "dataset": {"path": "mteb/stsbenchmark-sts", "revision": "b0fddb56ed78...(40 hex)",
 *                "files": ["data/EN_*.tsv"],   // optional: exactly the files read (globs,
 *                                              // '*', '?', '[...]' as fnmatch without FNM_PATHNAME)
 *                "revision_note": "..."},      // optional: free text on the revision
 *    "data": "relative/folder",          // task files: data folder relative to the file
 *    "split": "test", "subset": null,    // hf_subset; null means "default"
 *    "main_score": "cosine_spearman",    // what the result's main_score holds
 *    "leaderboard_metric": "cosine_spearman",  // what MTEB(eng, v1) averages
 *    "languages": ["eng-Latn"], "benchmarks": ["MTEB(eng, v1)"],
 *    "instruction": "Retrieve semantically similar text.",
 *    "settings": {"min_score": 0, "max_score": 5}}
 *
 * Task files reject unknown keys (besides the ones above, "notes" and
 * "description" are allowed). Settings are checked against the type's schema
 * and mapped into its typed struct (cmteb/task_settings.h) when the task is
 * parsed: an unknown or bad setting stops with FILE: task NAME: field
 * 'settings.KEY': expected ...; evaluators read t->settings. Tasks
 * made of several hub datasets (CQADupstackRetrieval) list them in
 * settings.subsets; each lives at DATA_DIR/<hub repo> (catalog) or
 * <data>/<subset> (task files), and settings.aggregate "mean" averages them.
 *
 * Ownership: the catalog owns its tasks; cm_task pointers are borrowed and
 * live until cm_catalog_free.
 */
#ifndef CMTEB_TASK_H
#define CMTEB_TASK_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cmteb/task_settings.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "Classification", "Clustering", "PairClassification", "Reranking",
 * "Retrieval", "STS", "Summarization". */
const char *cm_task_type_name(cm_task_type t);
/* Accepts the names above, case-insensitively. */
int cm_task_type_parse(const char *s, cm_task_type *out);

typedef struct cm_task {
    char        *name;
    cm_task_type type;
    char        *dataset_path;        /* hub repository, e.g. "mteb/stsbenchmark-sts"; may be NULL */
    char        *dataset_revision;    /* may be NULL */
    char       **dataset_files;       /* "dataset": {"files": [...]}: glob patterns relative to the repository
                                         root naming exactly the files the task reads, NULL-terminated; NULL
                                         when absent (the per-type rules of cm_data_find_split apply) */
    char        *data;                /* task files: absolute data folder; NULL for catalog tasks */
    char        *split;
    char        *subset;              /* NULL means "default" */
    char        *main_score;
    char        *leaderboard_metric;
    char        *instruction;         /* may be NULL */
    char       **languages;
    size_t       n_languages;
    char       **benchmarks;
    size_t       n_benchmarks;
    cm_task_settings settings;        /* typed, checked settings (the member of type); see task_settings.h */
    cJSON       *settings_json;       /* owned; the settings object as written (possibly empty) */
    char        *source;              /* "builtin", "demo" or the task file's path */
} cm_task;

/* Parses one task object. base_dir resolves a relative "data" (NULL: the
 * current folder). source is copied. On error names the field and source. */
int  cm_task_from_json(cm_task **out, const cJSON *obj, const char *base_dir, const char *source);
void cm_task_free(cm_task *t);

/* The folder holding the task's data: t->data for task files, else
 * data_dir/dataset_path (data_dir NULL means "data"). Caller frees. */
char *cm_task_data_folder(const cm_task *t, const char *data_dir);

typedef struct cm_catalog cm_catalog;

/* The built-in catalog: the 56 tasks of MTEB(eng, v1) and the demo tasks. */
int  cm_catalog_init(cm_catalog **out);
/* Adds the task(s) in a task file (one object or an array of objects). */
int  cm_catalog_add_file(cm_catalog *c, const char *path);
size_t         cm_catalog_count(const cm_catalog *c);
const cm_task *cm_catalog_get(const cm_catalog *c, size_t i);
/* By exact name, then case-insensitively; NULL if absent. */
const cm_task *cm_catalog_find(const cm_catalog *c, const char *name);
/* Tasks of a benchmark, in catalog order, into a new array (*tasks, caller
 * frees the array only). Names: "MTEB(eng, v1)" (aliases "MTEB(eng, classic)",
 * "MTEB"), "demo". Unknown names are an error that lists the known ones. */
int  cm_catalog_benchmark(const cm_catalog *c, const char *bench, const cm_task ***tasks, size_t *n);
/* The folder the demo data lives in (CMTEB_DEMO_DIR, the installed share
 * folder, or the source tree). Borrowed. */
const char *cm_demo_dir(void);
void cm_catalog_free(cm_catalog *c);

/* Which tasks a run covers (cmteb run / compare): the named tasks, then a
 * benchmark's; when neither is given, the tasks of the task files (catalog
 * entries from index files_from on); then only those of one type. */
typedef struct cm_task_selection {
    const char  *tasks;       /* "A,B" (exact names, else case-insensitive), or NULL */
    const char  *benchmark;   /* a benchmark name (cm_catalog_benchmark), or NULL */
    cm_task_type type;        /* CM_TASK_TYPE_COUNT: every type */
    size_t       files_from;  /* cm_catalog_count before the task files were added */
} cm_task_selection;

cm_task_selection cm_task_default_selection(void);

/* Resolves a selection into a new array (*out, caller frees the array only)
 * of borrowed tasks, each once, in selection order. CM_ERR_NOTFOUND for an
 * unknown task name ("unknown task 'X' (see cmteb list)") or when nothing is
 * selected. */
int cm_catalog_select(const cm_catalog *c, const cm_task_selection *s, const cm_task ***out, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
