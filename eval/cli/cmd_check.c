/*
 * cmd_check.c: `cmteb check`, the CI regression gate: compares a candidate
 * results folder with a baseline, prints what moved, writes JUnit XML, and
 * exits non-zero on a regression (see reports/check.h).
 */
#include "eval/cli/cli.h"
#include "cmteb/check.h"
#include "cmteb/report.h"
#include "cmteb/status.h"
#include "cmteb/task.h"
#include "cmteb/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: cmteb check --baseline DIR --candidate DIR [--tolerance POINTS] [--junit FILE]\n"
        "                   [--benchmark NAME | --tasks A,B] [options]\n"
        "\n"
        "Fails (exit 1) when a task's main score in the candidate falls by more than the\n"
        "tolerance below the baseline's, or falls significantly where both runs kept per-item\n"
        "data (.cmteb/<Task>.items.json: a one-sided paired bootstrap, fixed seed), or is\n"
        "missing from the candidate. Prints a table of what moved; --junit writes JUnit XML\n"
        "(one testcase per task) that CI systems display. Each DIR is one model's results\n"
        "folder (either MTEB layout) or a folder holding exactly one.\n"
        "\n"
        "  --baseline DIR       the reference results\n"
        "  --candidate DIR      the results under test\n"
        "  --tolerance POINTS   how far a score (x100) may fall (default 0.5)\n"
        "  --junit FILE         write JUnit XML there\n"
        "  --benchmark NAME     check a benchmark's tasks (default: every task in either folder)\n"
        "  --tasks A,B          check these tasks\n"
        "  --task-file FILE     add user-defined tasks (repeatable)\n"
        "  --allow-missing      a task missing from the candidate does not fail\n"
        "  --no-bootstrap       tolerance only, no significance test\n"
        "  --alpha P            significance level (default 0.05)\n"
        "  --resamples N        bootstrap resamples (default 1000)\n"
        "  --seed N             bootstrap seed (default 42)\n");
}

/* The one model folder under dir, loaded; an error when there are none or several. */
static int load_one(const char *dir, const char *role, const cm_catalog *cat, cm_model_results **out) {
    *out = NULL;
    char **folders = NULL;
    size_t n = 0;
    int rc = cm_results_find_models(dir, &folders, &n);
    if (rc) return cm_error_wrap(rc, "--%s", role);
    if (n != 1) {
        rc = cm_error(CM_ERR_ARG, "--%s %s holds %zu model folders (%s, %s%s); give one of them", role, dir, n,
                      folders[0], folders[1], n > 2 ? ", ..." : "");
    } else {
        rc = cm_model_results_load(out, folders[0], cat);
        for (size_t w = 0; !rc && w < (*out)->n_warnings; w++)
            fprintf(stderr, "cmteb check: warning: %s\n", (*out)->warnings[w]);
        if (!rc) {
            char *label = cm_asprintf("%s: %s", role, (*out)->label);
            if (!label) rc = CM_ERR_NOMEM;
            else { free((*out)->label); (*out)->label = label; }
        }
    }
    cm_results_free_folders(folders, n);
    return rc;
}

static int split_names(const char *s, char ***out, size_t *n) {
    *out = NULL;
    *n = 0;
    size_t cap = 1;
    for (const char *p = s; *p; p++) cap += *p == ',';
    char **v = cm_calloc(cap, sizeof *v);
    char *copy = cm_strdup(s), *save = NULL;
    int rc = v && copy ? CM_OK : CM_ERR_NOMEM;
    for (char *tok = rc ? NULL : strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        if (!*tok) continue;
        if (!(v[*n] = cm_strdup(tok))) rc = CM_ERR_NOMEM;
        else (*n)++;
    }
    free(copy);
    if (rc) { cm_results_free_folders(v, *n); *n = 0; return rc; }
    *out = v;
    return CM_OK;
}

int cm_cmd_check(int argc, char **argv) {
    const char *baseline = NULL, *candidate = NULL, *junit = NULL;
    cm_cli_tasks ts = {0};
    int bad = 0, bootstrap = 1;
    double alpha = 0.05;
    cm_check_params cp = cm_check_default_params();
    cm_bootstrap_params bp = cm_bootstrap_default_params();
    for (int i = 1; i < argc && !bad; i++) {
        const char *v = NULL;
        if (cm_opt_flag(argv, i, "--help") || cm_opt_flag(argv, i, "-h")) { usage(stdout); return 0; }
        else if (cm_opt_value(argc, argv, &i, "--baseline", &baseline, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--candidate", &candidate, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--junit", &junit, &bad)) {}
        else if (cm_opt_tasks(argc, argv, &i, &ts, &bad)) {}
        else if (cm_opt_flag(argv, i, "--allow-missing")) cp.allow_missing = 1;
        else if (cm_opt_flag(argv, i, "--no-bootstrap")) bootstrap = 0;
        else if (cm_opt_value(argc, argv, &i, "--tolerance", &v, &bad)) {
            char *end;
            cp.tolerance = v ? strtod(v, &end) : -1;
            if (!v || *end || !(cp.tolerance >= 0) || isinf(cp.tolerance))
                return cm_cli_usage_error("check", "--tolerance expects a non-negative number of points (x100)");
        }
        else if (cm_opt_value(argc, argv, &i, "--alpha", &v, &bad)) {
            char *end;
            alpha = v ? strtod(v, &end) : 0;
            if (!v || *end || !(alpha > 0 && alpha < 1))
                return cm_cli_usage_error("check", "--alpha expects a number in (0, 1)");
        }
        else if (cm_opt_value(argc, argv, &i, "--resamples", &v, &bad)) {
            long x = v ? cm_opt_long("--resamples", v) : -1;
            if (x <= 0) return cm_cli_usage_error("check", "--resamples expects a positive integer");
            bp.resamples = (size_t)x;
        }
        else if (cm_opt_value(argc, argv, &i, "--seed", &v, &bad)) {
            long x = v ? cm_opt_long("--seed", v) : -1;
            if (x < 0) return 2;
            bp.seed = (uint64_t)x;
        }
        else {
            char msg[300];
            snprintf(msg, sizeof msg, argv[i][0] == '-' ? "unknown option '%s'" : "unexpected argument '%s'", argv[i]);
            return cm_cli_usage_error("check", msg);
        }
    }
    if (bad) return 2;
    if (ts.type) return cm_cli_usage_error("check", "--type is not supported here (use --tasks or --benchmark)");
    if (!baseline || !candidate) return cm_cli_usage_error("check", "give --baseline DIR and --candidate DIR");

    int rc, exit_code = 1;
    cm_catalog *cat = NULL;
    cm_model_results *models[2] = {NULL, NULL};
    cm_report *r = NULL;
    cm_check_verdict *v = NULL;
    char **names = NULL;
    size_t n_names = 0, n_failed = 0;
    cm_str table = {0}, xml = {0};
    if ((rc = cm_catalog_init(&cat))) goto done;
    for (int i = 0; i < ts.n_files && !rc; i++) rc = cm_catalog_add_file(cat, ts.files[i]);
    if (rc) goto done;
    if (ts.tasks && (rc = split_names(ts.tasks, &names, &n_names))) goto done;
    if ((rc = load_one(baseline, "baseline", cat, &models[0]))) goto done;
    if ((rc = load_one(candidate, "candidate", cat, &models[1]))) goto done;
    cm_report_params p = cm_report_default_params();
    p.benchmark = ts.benchmark;
    p.tasks = (const char *const *)names;
    p.n_tasks = n_names;
    p.label_revisions = 0;
    rc = cm_report_build_from(&r, cat, models, 2, &p);
    models[0] = models[1] = NULL;   /* owned by the report now, even on failure */
    if (rc) goto done;
    r->alpha = alpha;
    if (bootstrap && (rc = cm_report_compare(r, &bp, alpha))) goto done;
    if ((rc = cm_check_evaluate(r, &cp, &v, &n_failed))) goto done;
    if ((rc = cm_check_render_table(r, &cp, v, &table))) goto done;
    printf("Baseline:  %s\nCandidate: %s\n\n%s", r->models[0].res->dir, r->models[1].res->dir, table.s ? table.s : "");
    fflush(stdout);
    if (junit) {
        if ((rc = cm_check_render_junit(r, &cp, v, &xml))) goto done;
        if ((rc = cm_write_file_atomic(junit, xml.s, xml.len))) goto done;
        fprintf(stderr, "cmteb check: wrote %s\n", junit);
    }
    if (n_failed) {
        cm_str why = {0};
        size_t shown = 0;
        for (size_t i = 0; i < r->n_rows; i++) {
            if (!cm_check_status_fails(v[i].status, cp.allow_missing)) continue;
            if (shown++ == 4) { cm_str_append(&why, ", ..."); break; }
            if (v[i].status == CM_CHECK_MISSING)
                cm_str_printf(&why, "%s%s missing", shown > 1 ? ", " : "", r->rows[i].task);
            else cm_str_printf(&why, "%s%s %+.2f", shown > 1 ? ", " : "", r->rows[i].task, v[i].cand - v[i].base);
        }
        fprintf(stderr, "cmteb check: %zu of %zu task%s regressed: %s\n", n_failed, r->n_rows,
                r->n_rows == 1 ? "" : "s", why.s ? why.s : "");
        cm_str_free(&why);
        exit_code = 1;
    } else {
        exit_code = 0;
    }
done:
    cm_str_free(&table);
    cm_str_free(&xml);
    free(v);
    cm_report_free(r);
    cm_model_results_free(models[0]);
    cm_model_results_free(models[1]);
    cm_results_free_folders(names, n_names);
    cm_catalog_free(cat);
    if (rc) return cm_cli_fail("check", NULL);
    return exit_code;
}
