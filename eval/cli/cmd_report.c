/*
 * cmd_report.c: `cmteb report`, the leaderboard view of results folders
 * (either MTEB layout) as markdown, CSV, JSON or HTML (see reports/report.h).
 */
#include "eval/cli/cli.h"
#include "cmteb/report.h"
#include "cmteb/status.h"
#include "cmteb/task.h"
#include "cmteb/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: cmteb report [--benchmark NAME] [--tasks A,B] [--format md|csv|json|html]\n"
        "                    [--output FILE] RESULTS_DIR...\n"
        "\n"
        "Reads results folders in either MTEB layout (v1 flat files <model>/<Task>.json, or the\n"
        "current <org>__<model>/<revision>/<Task>.json) and prints per-task main scores (x100),\n"
        "category means and the average, naming the tasks each model misses (its average is\n"
        "then over the tasks present and marked partial). Each RESULTS_DIR may be one model's\n"
        "folder or a results root holding many; several models are shown side by side.\n"
        "For MTEB(eng, v1) each task counts with the metric the v1 leaderboard used (cosine AP\n"
        "for pair classification, cosine Spearman for STS, ...; see cmteb list).\n"
        "\n"
        "  --benchmark NAME     report a benchmark's tasks (\"MTEB(eng, v1)\", demo); default: every\n"
        "                       task found\n"
        "  --tasks A,B          only these tasks\n"
        "  --task-file FILE     add user-defined tasks (repeatable) so their type and metric are known\n"
        "  --format FMT         md (default), csv, json or html (self-contained, SVG charts);\n"
        "                       default from --output's extension\n"
        "  --output FILE        write there instead of standard output\n"
        "  --revisions          label every model with its revision (default: only when two\n"
        "                       folders hold the same model)\n"
        "  --compare            also show each model's difference to the first, with paired\n"
        "                       bootstrap significance where per-item data exists\n"
        "  --resamples N  --seed N  --alpha P   bootstrap settings (default 1000, 42, 0.05)\n");
}

/* Splits "A,B" into new strings (*out, caller frees with cm_results_free_folders). */
static int split_names(const char *s, char ***out, size_t *n) {
    *out = NULL;
    *n = 0;
    char *copy = cm_strdup(s), *save = NULL;
    if (!copy) return CM_ERR_NOMEM;
    size_t cap = 1;
    for (const char *p = s; *p; p++) cap += *p == ',';
    char **v = cm_calloc(cap, sizeof *v);
    int rc = v ? CM_OK : CM_ERR_NOMEM;
    for (char *tok = v ? strtok_r(copy, ",", &save) : NULL; tok && !rc; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        size_t len = strlen(tok);
        while (len && tok[len - 1] == ' ') tok[--len] = '\0';
        if (!*tok) continue;
        if (!(v[*n] = cm_strdup(tok))) rc = CM_ERR_NOMEM;
        else (*n)++;
    }
    free(copy);
    if (rc) { cm_results_free_folders(v, *n); *n = 0; return rc; }
    *out = v;
    return CM_OK;
}

static int format_from_ext(const char *path, cm_report_format *f) {
    const char *dot = strrchr(path, '.');
    if (!dot) return 0;
    if (!strcasecmp(dot, ".html") || !strcasecmp(dot, ".htm")) *f = CM_REPORT_HTML;
    else if (!strcasecmp(dot, ".csv")) *f = CM_REPORT_CSV;
    else if (!strcasecmp(dot, ".json")) *f = CM_REPORT_JSON;
    else if (!strcasecmp(dot, ".md")) *f = CM_REPORT_MD;
    else return 0;
    return 1;
}

int cm_cmd_report(int argc, char **argv) {
    const char *fmt_arg = NULL, *output = NULL;
    cm_cli_tasks ts = {0};
    const char **dirs = cm_calloc((size_t)argc + 1, sizeof *dirs);
    int bad = 0, revisions = -1, compare = 0;
    size_t n_dirs = 0;
    double alpha = 0.05;
    cm_bootstrap_params bp = cm_bootstrap_default_params();
    if (!dirs) return cm_cli_fail("report", NULL);
    for (int i = 1; i < argc && !bad; i++) {
        const char *v = NULL;
        if (cm_opt_flag(argv, i, "--help") || cm_opt_flag(argv, i, "-h")) { usage(stdout); free(dirs); return 0; }
        else if (cm_opt_tasks(argc, argv, &i, &ts, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--format", &fmt_arg, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--output", &output, &bad)) {}
        else if (cm_opt_flag(argv, i, "--revisions")) revisions = 1;
        else if (cm_opt_flag(argv, i, "--compare")) compare = 1;
        else if (cm_opt_value(argc, argv, &i, "--resamples", &v, &bad)) {
            long x = v ? cm_opt_long("--resamples", v) : -1;
            if (x <= 0) { free(dirs); return cm_cli_usage_error("report", "--resamples expects a positive integer"); }
            bp.resamples = (size_t)x;
        }
        else if (cm_opt_value(argc, argv, &i, "--seed", &v, &bad)) {
            long x = v ? cm_opt_long("--seed", v) : -1;
            if (x < 0) { free(dirs); return 2; }
            bp.seed = (uint64_t)x;
        }
        else if (cm_opt_value(argc, argv, &i, "--alpha", &v, &bad)) {
            char *end;
            alpha = v ? strtod(v, &end) : 0;
            if (!v || *end || !(alpha > 0 && alpha < 1)) {
                free(dirs);
                return cm_cli_usage_error("report", "--alpha expects a number in (0, 1)");
            }
        }
        else if (argv[i][0] == '-' && argv[i][1]) {
            char msg[300];
            snprintf(msg, sizeof msg, "unknown option '%s'", argv[i]);
            free(dirs);
            return cm_cli_usage_error("report", msg);
        }
        else dirs[n_dirs++] = argv[i];
    }
    if (bad) { free(dirs); return 2; }
    if (ts.type) {
        free(dirs);
        return cm_cli_usage_error("report", "--type is not supported here (use --tasks or --benchmark)");
    }
    if (!n_dirs) { free(dirs); return cm_cli_usage_error("report", "give at least one RESULTS_DIR"); }
    cm_report_format fmt = CM_REPORT_MD;
    if (fmt_arg) {
        if (cm_report_format_parse(fmt_arg, &fmt)) { free(dirs); return cm_cli_usage_error("report", cm_last_error()); }
    } else if (output) {
        format_from_ext(output, &fmt);
    }

    int rc;
    cm_catalog *cat = NULL;
    cm_report *r = NULL;
    char **names = NULL;
    size_t n_names = 0;
    cm_str out = {0};
    if ((rc = cm_catalog_init(&cat))) goto done;
    for (int i = 0; i < ts.n_files && !rc; i++) rc = cm_catalog_add_file(cat, ts.files[i]);
    if (rc) goto done;
    if (ts.tasks && (rc = split_names(ts.tasks, &names, &n_names))) goto done;
    cm_report_params p = cm_report_default_params();
    p.benchmark = ts.benchmark;
    p.tasks = (const char *const *)names;
    p.n_tasks = n_names;
    p.label_revisions = revisions;
    if ((rc = cm_report_build(&r, cat, dirs, n_dirs, &p))) goto done;
    if (compare && (rc = cm_report_compare(r, &bp, alpha))) goto done;
    if ((rc = cm_report_render(r, fmt, &out))) goto done;
    if (output) {
        rc = cm_write_file_atomic(output, out.s, out.len);
        if (!rc) fprintf(stderr, "cmteb report: wrote %s\n", output);
    } else {
        fwrite(out.s, 1, out.len, stdout);
        fflush(stdout);
    }
done:
    cm_str_free(&out);
    cm_report_free(r);
    cm_results_free_folders(names, n_names);
    cm_catalog_free(cat);
    free(dirs);
    return rc ? cm_cli_fail("report", NULL) : 0;
}
