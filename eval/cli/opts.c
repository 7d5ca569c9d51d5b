/* opts.c: the option parser shared by the subcommands (see cli.h). */
#include "eval/cli/cli.h"
#include "eval/console.h"
#include "cmteb/status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cm_opt_flag(char **argv, int i, const char *name) { return strcmp(argv[i], name) == 0; }

int cm_opt_value(int argc, char **argv, int *i, const char *name, const char **value, int *bad) {
    const char *a = argv[*i];
    size_t ln = strlen(name);
    if (strncmp(a, name, ln) != 0) return 0;
    if (a[ln] == '=') {
        *value = a + ln + 1;
        return 1;
    }
    if (a[ln] != '\0') return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "cmteb: option %s needs a value\n", name);
        *bad = 1;
        return 1;
    }
    *value = argv[++*i];
    return 1;
}

long cm_opt_long(const char *opt, const char *value) {
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || *end || v < 0 || end == value) {
        fprintf(stderr, "cmteb: option %s expects a non-negative integer, got '%s'\n", opt, value);
        return -1;
    }
    return v;
}

double cm_opt_bytes(const char *opt, const char *value) {
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    double mult = 1;
    switch (*end) {
    case 'k': case 'K': mult = 1024.0; end++; break;
    case 'm': case 'M': mult = 1024.0 * 1024; end++; break;
    case 'g': case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    if (*end == 'i' || *end == 'I') end++;
    if (*end == 'b' || *end == 'B') end++;
    if (errno || *end || end == value || !(v > 0) || v * mult > 1e18) {
        fprintf(stderr, "cmteb: option %s expects a size such as 512M or 8G, got '%s'\n", opt, value);
        return -1;
    }
    return v * mult;
}

int cm_opt_tasks(int argc, char **argv, int *i, cm_cli_tasks *t, int *bad) {
    const char *v = NULL;
    if (cm_opt_value(argc, argv, i, "--tasks", &t->tasks, bad)) return 1;
    if (cm_opt_value(argc, argv, i, "--benchmark", &t->benchmark, bad)) return 1;
    if (cm_opt_value(argc, argv, i, "--type", &t->type, bad)) return 1;
    if (!cm_opt_value(argc, argv, i, "--task-file", &v, bad)) return 0;
    if (!v) return 1;
    if (t->n_files == CM_CLI_MAX_TASK_FILES) {
        fprintf(stderr, "cmteb: at most %d --task-file options\n", CM_CLI_MAX_TASK_FILES);
        *bad = 1;
        return 1;
    }
    t->files[t->n_files++] = v;
    return 1;
}

int cm_cli_select_tasks(const cm_cli_tasks *t, cm_catalog **cat, const cm_task ***sel, size_t *n) {
    *cat = NULL;
    *sel = NULL;
    *n = 0;
    cm_task_selection s = cm_task_default_selection();
    s.tasks = t->tasks;
    s.benchmark = t->benchmark;
    if (t->type) CM_TRY(cm_task_type_parse(t->type, &s.type));
    CM_TRY(cm_catalog_init(cat));
    s.files_from = cm_catalog_count(*cat);
    for (int k = 0; k < t->n_files; k++) CM_TRY(cm_catalog_add_file(*cat, t->files[k]));
    return cm_catalog_select(*cat, &s, sel, n);
}

int cm_opt_engine(int argc, char **argv, int *i, cm_encoder_params *p, int *bad) {
    const char *v = NULL;
    if (cm_opt_value(argc, argv, i, "--pooling", &p->pooling, bad)) return 1;
    if (cm_opt_value(argc, argv, i, "--attention", &p->attention, bad)) return 1;
    if (cm_opt_value(argc, argv, i, "--query-template", &p->query_template, bad)) return 1;
    if (cm_opt_value(argc, argv, i, "--document-template", &p->document_template, bad)) return 1;
    if (cm_opt_value(argc, argv, i, "--device", &p->device, bad)) return 1;
    if (cm_opt_value(argc, argv, i, "--dtype", &p->dtype, bad)) return 1;
    if (cm_opt_flag(argv, *i, "--normalize")) { p->normalize = 1; return 1; }
    if (cm_opt_flag(argv, *i, "--no-normalize")) { p->normalize = 0; return 1; }
    if (cm_opt_flag(argv, *i, "--pool-instruction")) { p->pool_instruction = 1; return 1; }
    if (cm_opt_flag(argv, *i, "--no-pool-instruction")) { p->pool_instruction = 0; return 1; }
    if (cm_opt_value(argc, argv, i, "--dim", &v, bad)) {
        long d = v ? cm_opt_long("--dim", v) : -1;
        if (d < 1 || d > 1 << 20) {
            if (v && d >= 0) fprintf(stderr, "cmteb: option --dim expects a positive integer up to 1048576: %s\n", v);
            *bad = 1;
        } else {
            p->dim = (int)d;
        }
        return 1;
    }
    if (!cm_opt_value(argc, argv, i, "--max-length", &v, bad)) return 0;
    long x = v ? cm_opt_long("--max-length", v) : -1;
    if (x < 0 || x > 1 << 30) {
        if (v && x > 1 << 30) fprintf(stderr, "cmteb: option --max-length is too large: %s\n", v);
        *bad = 1;
    } else {
        p->max_length = (int)x;
    }
    return 1;
}

int cm_cli_fail(const char *cmd, const char *hint) {
    fprintf(stderr, "cmteb %s: ", cmd);
    cm_console_put_escaped(stderr, cm_last_error()[0] ? cm_last_error() : "failed");   /* may quote data */
    fputc('\n', stderr);
    if (hint) fprintf(stderr, "HINT: %s\n", hint);
    return 1;
}

int cm_cli_usage_error(const char *cmd, const char *msg) {
    fprintf(stderr, "cmteb %s: ", cmd);
    cm_console_put_escaped(stderr, msg);   /* may quote an argument */
    fprintf(stderr, "\nRun 'cmteb %s --help' for usage.\n", cmd);
    return 2;
}
