/*
 * report.h: the leaderboard view of one or more models' results: per-task
 * main scores (x100), category means and the benchmark average, with the
 * tasks each model misses; optionally each model compared with the first
 * (difference and paired-bootstrap significance, for `cmteb compare` and
 * `cmteb check`). Rendered as markdown, CSV, JSON or a self-contained HTML
 * page with inline SVG charts.
 *
 * Aggregation follows the MTEB(eng, v1) leaderboard (reference: tests/reference/ref_report_fixtures.py):
 * the average is the plain mean of the per-task scores, categories are plain
 * means within a task type, CQADupstackRetrieval counts once. When a model
 * misses tasks its average is over the tasks present and marked partial.
 *
 * Ownership: cm_report_build allocates the report (it owns the model results
 * it loads); cm_report_free releases it (NULL is fine). The catalog is
 * borrowed during calls only; rows keep copies of what they need.
 */
#ifndef CMTEB_REPORTS_REPORT_H
#define CMTEB_REPORTS_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "cmteb/task.h"
#include "cmteb/util.h"
#include "cmteb/bootstrap.h"
#include "cmteb/results_read.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Categories: the task types, plus one for tasks the catalog does not know. */
#define CM_REPORT_OTHER ((int)CM_TASK_TYPE_COUNT)
#define CM_REPORT_NCAT  ((int)CM_TASK_TYPE_COUNT + 1)

const char *cm_report_category_name(int category);   /* type name, or "Other" */

typedef enum cm_report_format {
    CM_REPORT_MD = 0,
    CM_REPORT_CSV,
    CM_REPORT_JSON,
    CM_REPORT_HTML,
} cm_report_format;

/* "md"/"markdown", "csv", "json", "html". */
int cm_report_format_parse(const char *s, cm_report_format *out);

typedef struct cm_report_row {
    char *task;
    int   category;   /* cm_task_type or CM_REPORT_OTHER */
    char *metric;     /* the metric averaged (leaderboard_metric) */
} cm_report_row;

typedef struct cm_report_agg {
    double mean;      /* x100 over the tasks present; NaN when none */
    size_t present;   /* tasks with a score */
    size_t total;     /* tasks in the row set */
} cm_report_agg;

/* A difference to the baseline (the first model). */
typedef struct cm_report_diff {
    double delta;            /* x100 points, model - baseline, over tasks both have; NaN if none */
    size_t n_common;         /* tasks (or 1 for a task row) both have */
    int    tested;           /* 1: a paired bootstrap ran */
    cm_bootstrap_result bs;  /* valid when tested (fractions; x100 for display) */
    char  *note;             /* NULL or why no test ran ("no per-item data in baseline") */
    int    items_unreadable; /* 1: a per-item file exists but cannot be read (note says which) */
} cm_report_diff;

typedef struct cm_report_model {
    cm_model_results     *res;      /* owned */
    const cm_task_score **cells;    /* (n_rows) borrowed from res; NULL when missing */
    cm_report_agg         overall;
    cm_report_agg         cat[CM_REPORT_NCAT];
    /* Filled by cm_report_compare for models after the first: */
    cm_report_diff       *diff;     /* (n_rows) or NULL */
    cm_report_diff        cat_diff[CM_REPORT_NCAT];
    cm_report_diff        overall_diff;
} cm_report_model;

typedef struct cm_report {
    char            *title;       /* "MTEB(eng, v1)" or "Results" */
    char            *benchmark;   /* NULL: the tasks found */
    cm_report_row   *rows;
    size_t           n_rows, cap_rows;   /* cap_rows: capacity (cmteb/array.h) */
    cm_report_model *models;
    size_t           n_models;
    int              compared;    /* cm_report_compare ran */
    cm_bootstrap_params bootstrap;
    double           alpha;       /* significance level of the marks */
} cm_report;

typedef struct cm_report_params {
    const char        *benchmark;   /* NULL: every task found in the folders */
    const char *const *tasks;       /* NULL, or restrict rows to these names */
    size_t             n_tasks;
    int                label_revisions;   /* -1 auto (when two folders share a name), 0 never, 1 always */
} cm_report_params;

cm_report_params cm_report_default_params(void);

/* Loads every model folder found under each of dirs (cm_results_find_models)
 * and builds the rows and aggregates. Unknown benchmark names and unknown
 * --tasks names are errors that say what is known. */
int  cm_report_build(cm_report **out, const cm_catalog *cat, const char *const *dirs, size_t n_dirs,
                     const cm_report_params *p);
/* Same, from already loaded results (takes ownership of models[0..n), even on failure). */
int  cm_report_build_from(cm_report **out, const cm_catalog *cat, cm_model_results **models, size_t n_models,
                          const cm_report_params *p);
void cm_report_free(cm_report *r);

/* Compares models 1.. with model 0: differences, and a paired bootstrap
 * wherever both have per-item data (<dir>/.cmteb/<Task>.items.json); the
 * category and average tests bootstrap every task of the group jointly.
 * alpha (e.g. 0.05) sets what the significance marks mean. */
int  cm_report_compare(cm_report *r, const cm_bootstrap_params *bp, double alpha);

/* 1 when d is significant at the report's alpha (two-sided). */
int  cm_report_diff_significant(const cm_report *r, const cm_report_diff *d);

/* Appends the report to out in the given format. */
int  cm_report_render(const cm_report *r, cm_report_format f, cm_str *out);
int  cm_report_render_md(const cm_report *r, cm_str *out);
int  cm_report_render_csv(const cm_report *r, cm_str *out);
int  cm_report_render_json(const cm_report *r, cm_str *out);
int  cm_report_render_html(const cm_report *r, cm_str *out);

/* Formats x100 scores: "69.32", or "" for NaN. */
void cm_report_fmt_score(char buf[32], double x100);

#ifdef __cplusplus
}
#endif
#endif
