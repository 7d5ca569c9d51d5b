/* cmd_merge.c: `cmteb merge`, the folders of sharded runs into one run's results (see eval/shard.h). */
#include "eval/cli/cli.h"
#include "eval/run.h"
#include "eval/shard.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: cmteb merge [--output DIR] [--threads N] [--quiet] SHARD_DIR...\n"
        "\n"
        "Merges the results of `cmteb run --shard I/N` (one --output folder per shard, all N of\n"
        "them, in any order) into DIR (default: results): the files one unsharded run writes.\n"
        "Retrieval tasks are scored from the shards' per-query top-k hits merged as the single\n"
        "run ranks them (score, then document id); the other tasks are evaluated over the union of\n"
        "the shards' slices of their vectors; model_meta.json is shard 0's. Only evaluation_time\n"
        "differs from a single run (for a model whose vectors do not depend on the batch).\n"
        "\n"
        "  --output DIR   results root to write (default: results)\n"
        "  --threads N    CPU threads for the metrics (default: all cores)\n"
        "  --quiet        no progress output\n");
}

int cm_cmd_merge(int argc, char **argv) {
    cm_merge_params mp = cm_merge_default_params();
    const char **dirs = cm_calloc((size_t)argc, sizeof *dirs);
    size_t n = 0;
    int bad = 0;
    if (!dirs) return cm_cli_fail("merge", NULL);
    for (int i = 1; i < argc && !bad; i++) {
        const char *v = NULL;
        if (cm_opt_flag(argv, i, "--help") || cm_opt_flag(argv, i, "-h")) {
            usage(stdout);
            free(dirs);
            return 0;
        } else if (cm_opt_value(argc, argv, &i, "--output", &mp.output_dir, &bad)) {
        } else if (cm_opt_flag(argv, i, "--quiet") || cm_opt_flag(argv, i, "-q")) {
            mp.quiet = 1;
        } else if (cm_opt_value(argc, argv, &i, "--threads", &v, &bad)) {
            long x = v ? cm_opt_long("--threads", v) : -1;
            if (x < 0) bad = 1;
            else mp.threads = (int)x;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            char msg[300];
            snprintf(msg, sizeof msg, "unknown option '%s'", argv[i]);
            free(dirs);
            return cm_cli_usage_error("merge", msg);
        } else {
            dirs[n++] = argv[i];
        }
    }
    if (bad) {
        free(dirs);
        return 2;
    }
    if (!n) {
        free(dirs);
        return cm_cli_usage_error("merge", "name the shard folders (the --output of each cmteb run --shard I/N)");
    }
    int code = cm_cli_merge_dirs(dirs, n, &mp);
    free(dirs);
    return code;
}

int cm_cli_merge_dirs(const char *const *dirs, size_t n, const cm_merge_params *mp) {
    cm_catalog *cat = NULL;
    cm_run_summary sum;
    int rc = cm_shard_merge(dirs, n, mp, &cat, &sum), code;
    if (rc) {
        code = cm_cli_fail("merge", rc == CM_ERR_NOTFOUND || rc == CM_ERR_ARG
                                        ? "pass every shard's --output folder of the same cmteb run --shard I/N command"
                                        : NULL);
    } else {
        printf("\nMerged %zu shards -> %s\n\n", n, sum.model_dir);
        cm_run_print_table(&sum, stdout);
        code = sum.n_failed ? 1 : 0;
        if (sum.n_failed) fprintf(stderr, "cmteb merge: %zu of %zu tasks not merged\n", sum.n_failed, sum.n);
    }
    cm_run_summary_free(&sum);
    cm_catalog_free(cat);
    return code;
}
