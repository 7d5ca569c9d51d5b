/* cmd_fetch.c: `cmteb fetch`, getting tasks' data from the Hugging Face hub (see cmteb/hub.h). */
#include "eval/cli/cli.h"
#include "cmteb/hub.h"
#include "cmteb/status.h"
#include "cmteb/task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: cmteb fetch (--tasks A,B | --benchmark NAME | --task-file FILE ...) [options]\n"
        "\n"
        "Downloads the files the selected tasks read (their splits, not whole repositories) from the\n"
        "Hugging Face hub at the catalog's pinned revisions into DATA_DIR/<org>/<name>/, the layout of\n"
        "`huggingface-cli download --local-dir` (metadata in .cache/huggingface/download/). Files the\n"
        "huggingface_hub cache already holds at the pinned revision are read from there, not fetched.\n"
        "Downloads resume after an interruption (Ctrl-C keeps finished files), are checked against the\n"
        "hub's size and sha256, and are retried on 408/429/5xx and timeouts.\n"
        "\n"
        "  --tasks A,B | --benchmark NAME | --task-file FILE   which tasks (as for cmteb run)\n"
        "  --type TYPE          keep only tasks of this type\n"
        "  --data-dir DIR       where files go (default: data, or $CMTEB_DATA_DIR)\n"
        "  --jobs N             files downloaded in parallel (default 4)\n"
        "  --endpoint URL       the hub (default: $HF_ENDPOINT, else https://huggingface.co)\n"
        "  --quiet              no progress output\n"
        "\n"
        "environment: HF_TOKEN (or HUGGING_FACE_HUB_TOKEN, or $HF_HOME/token) for gated datasets;\n"
        "HF_HUB_OFFLINE=1 never touches the network and lists what is missing; HF_HUB_CACHE / HF_HOME /\n"
        "XDG_CACHE_HOME locate the huggingface_hub cache.\n");
}

int cm_cmd_fetch(int argc, char **argv) {
    cm_cli_tasks ts = {0};
    cm_hub_params hp = cm_hub_default_params();
    const char *data_dir = getenv("CMTEB_DATA_DIR");
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        const char *v = NULL;
        if (cm_opt_flag(argv, i, "--help") || cm_opt_flag(argv, i, "-h")) { usage(stdout); return 0; }
        else if (cm_opt_tasks(argc, argv, &i, &ts, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--data-dir", &data_dir, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--endpoint", &hp.endpoint, &bad)) {}
        else if (cm_opt_flag(argv, i, "--quiet") || cm_opt_flag(argv, i, "-q")) hp.quiet = 1;
        else if (cm_opt_value(argc, argv, &i, "--jobs", &v, &bad)) {
            long x = v ? cm_opt_long("--jobs", v) : -1;
            if (x <= 0 || x > 64) {
                if (x >= 0) fprintf(stderr, "cmteb: --jobs must be between 1 and 64\n");
                return 2;
            }
            hp.jobs = (int)x;
        } else {
            char msg[300];
            snprintf(msg, sizeof msg, "unknown option '%s'", argv[i]);
            return cm_cli_usage_error("fetch", msg);
        }
    }
    if (bad) return 2;
    if (!ts.tasks && !ts.benchmark && !ts.n_files)
        return cm_cli_usage_error("fetch", "say which tasks: --tasks A,B, --benchmark NAME or --task-file FILE");
    hp.data_dir = data_dir ? data_dir : "data";
    cm_catalog *cat = NULL;
    const cm_task **sel = NULL;
    size_t n = 0;
    int code = 1;
    int rc = cm_cli_select_tasks(&ts, &cat, &sel, &n);
    if (rc) {
        code = cm_cli_fail("fetch", rc == CM_ERR_NOTFOUND ? "see 'cmteb list' for the tasks" : NULL);
        goto done;
    }
    cm_hub_fetch_stats st;
    rc = cm_hub_fetch_tasks(sel, n, &hp, &st);
    printf("%zu task(s): %zu file(s) needed (%.1f MB), %zu already there, %zu downloaded (%.1f MB), %zu failed; "
           "%zu HTTP request(s); data in %s\n",
           n, st.files_needed, (double)st.bytes_needed / 1e6, st.files_present, st.files_downloaded,
           (double)st.bytes_downloaded / 1e6, st.files_failed, st.requests, hp.data_dir);
    if (rc == CM_ERR_INTERRUPTED) {
        fprintf(stderr, "cmteb fetch: interrupted; finished files are kept and partial ones resume: run the same "
                        "command again\n");
        code = 130;
    } else if (rc) {
        const char *offline = getenv("HF_HUB_OFFLINE");
        code = cm_cli_fail("fetch", offline && strcmp(offline, "0") ? "unset HF_HUB_OFFLINE to download them" : NULL);
    } else {
        code = 0;
    }
done:
    free((void *)sel);
    cm_catalog_free(cat);
    return code;
}
