/*
 * check.h: regression checks for CI (`cmteb check`): a candidate's results
 * against a baseline's, task by task.
 *
 * A task fails when its main score falls by more than the tolerance (points
 * x100), or, when both runs kept per-item data, falls significantly: the
 * one-sided paired-bootstrap p-value that the candidate is not worse is
 * below alpha (report.h's comparison, fixed seed). A task the baseline has
 * and the candidate lacks fails too (unless allowed). The verdicts print as
 * a table of what moved and as JUnit XML, one <testcase> per task.
 *
 * Ownership: cm_check_evaluate allocates the verdict array (caller frees it
 * with free); the report is borrowed and must outlive the verdicts.
 */
#ifndef CMTEB_REPORTS_CHECK_H
#define CMTEB_REPORTS_CHECK_H

#include <stddef.h>

#include "cmteb/report.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cm_check_status {
    CM_CHECK_OK = 0,         /* within tolerance, no significant fall */
    CM_CHECK_IMPROVED,       /* rose by more than the tolerance, or significantly */
    CM_CHECK_DROPPED,        /* fell by more than the tolerance */
    CM_CHECK_SIGNIFICANT,    /* fell significantly (within the tolerance) */
    CM_CHECK_MISSING,        /* in the baseline, not in the candidate */
    CM_CHECK_NEW,            /* in the candidate only */
    CM_CHECK_ABSENT,         /* in neither */
} cm_check_status;

const char *cm_check_status_name(cm_check_status s);
int cm_check_status_fails(cm_check_status s, int allow_missing);

typedef struct cm_check_params {
    double tolerance;     /* points x100 a score may fall (default 0.5) */
    int    allow_missing; /* 1: a task missing from the candidate does not fail */
} cm_check_params;

cm_check_params cm_check_default_params(void);

typedef struct cm_check_verdict {
    size_t          row;     /* index into the report's rows */
    cm_check_status status;
    double          base;    /* x100; NaN when absent */
    double          cand;    /* x100; NaN when absent */
} cm_check_verdict;

/* r holds exactly two models (baseline first, candidate second), compared
 * (cm_report_compare) when significance should count. *verdicts is a new
 * array of r->n_rows; *n_failed counts failing tasks. */
int cm_check_evaluate(const cm_report *r, const cm_check_params *p, cm_check_verdict **verdicts, size_t *n_failed);

/* The table of what moved (markdown): rows whose score changed by 0.01 or
 * more, or that fail, are new or missing; then a summary line. */
int cm_check_render_table(const cm_report *r, const cm_check_params *p, const cm_check_verdict *v, cm_str *out);

/* JUnit XML: one <testsuite>, one <testcase> per task (classname
 * cmteb.check.<Category>), <failure> for failing tasks, <skipped> for tasks
 * in neither run; properties record tolerance, alpha, resamples and seed. */
int cm_check_render_junit(const cm_report *r, const cm_check_params *p, const cm_check_verdict *v, cm_str *out);

#ifdef __cplusplus
}
#endif
#endif
