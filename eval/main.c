/*
 * main.c: the cmteb command line. Dispatches to the subcommands in eval/cli.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval/cli/cli.h"
#include "eval/console.h"
#include "cmteb/interrupt.h"
#include "cmteb/memcap.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} command;

static const command commands[] = {
    {"list",     cm_cmd_list,     "list the tasks of the catalog or a benchmark"},
    {"fetch",    cm_cmd_fetch,    "download tasks' data from the Hugging Face hub (resumable, verified)"},
    {"run",      cm_cmd_run,      "evaluate a model on tasks and write MTEB-format results"},
    {"merge",    cm_cmd_merge,    "merge the folders of sharded runs (run --shard I/N) into one run's results"},
    {"report",   cm_cmd_report,   "per-task scores, category means and averages of result folders"},
    {"compare",  cm_cmd_compare,  "evaluate variants of one model side by side, with significance"},
    {"train-pooler", cm_cmd_train_pooler, "train a pooling head on a frozen hf: backbone (InfoNCE, hard negatives)"},
    {"check",    cm_cmd_check,    "fail when a candidate's results regress against a baseline (CI)"},
    {"embed",    cm_cmd_embed,    "embed a file of texts into a .npy matrix"},
    {"tokenize", cm_cmd_tokenize, "print token ids and pieces of a model's tokenizer"},
    {"info",     cm_cmd_info,     "describe a model: architecture, sizes, memory footprint"},
};

/* Under a `ulimit -v` too small for OpenBLAS (core/include/cmteb/memcap.h): an error naming the limit, before
 * OpenBLAS's initializer raises SIGINT or its first call spins. Runs from .preinit_array, before every shared
 * library's initializer and before any thread exists; the commands that embed or evaluate also need a 128 MiB
 * buffer per thread (--threads N, else $OMP_NUM_THREADS, else the CPUs) plus the calling thread. Owns nothing. */
static void memcap_preinit(int argc, char **argv, char **envp) {
    (void)envp;
    if (cm_address_space_left() == (size_t)-1) return;
    /* glibc reserves 64 MiB of address space for each thread's arena (128 MiB while it aligns one): under a cap
     * that ate the room OpenBLAS's buffers were counted on; every thread shares the main arena instead */
    mallopt(M_ARENA_MAX, 1);
    const char *cmd = argc >= 2 ? argv[1] : "";
    int blas = !strcmp(cmd, "run") || !strcmp(cmd, "compare") || !strcmp(cmd, "embed") ||
               !strcmp(cmd, "train-pooler");
    long threads = 0;
    for (int i = 2; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--threads")) threads = strtol(argv[i + 1], NULL, 10);
    if (threads <= 0) {
        const char *omp = getenv("OMP_NUM_THREADS");
        threads = omp ? strtol(omp, NULL, 10) : 0;
    }
    if (threads <= 0) threads = cm_memcap_blas_threads();
    if (threads > 1024) threads = 1024;
    if (cm_memcap_check_start(blas ? (int)threads + 1 : 0, (size_t)(blas ? 48 : 16) << 20) != CM_OK) {
        fprintf(stderr, "cmteb%s%s: %s\n", blas ? " " : "", blas ? cmd : "", cm_last_error());
        _exit(1);
    }
}
__attribute__((section(".preinit_array"), used)) static void (*const memcap_preinit_entry)(int, char **, char **) =
    memcap_preinit;

static void usage(FILE *f) {
    fprintf(f, "usage: cmteb COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nRun 'cmteb COMMAND --help' for a command's options.\n"
               "Quick start: cmteb run --model hash --benchmark demo\n");
}

/* OpenBLAS (its pthread build) exports this; absent (another BLAS), the call is skipped. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

int main(int argc, char **argv) {
    /* OpenBLAS's initializer starts its pool threads, which busy-wait (sched_yield) for 2^28 TSC cycles, about
     * 0.1 s, before they sleep: on a 2-core machine that took a tenth of a short evaluation's CPU from the threads
     * doing the work (clustering 10 x 10k: 0.07 s). Stopped here; OpenBLAS starts them again at its first threaded
     * product (an hf: model's), and from then on they wait as OpenBLAS always does. (OPENBLAS_THREAD_TIMEOUT only
     * acts when it is in the environment cmteb starts with: setting it from a .preinit_array function was tried
     * before and measured to change nothing.) */
    if (blas_thread_shutdown_) blas_thread_shutdown_();
    /* run, compare and fetch stop gracefully on SIGINT/SIGTERM: install first, so that a signal during the startup
     * (options, catalog, model loading) sets the flag instead of killing the process */
    if (argc >= 2 && (!strcmp(argv[1], "run") || !strcmp(argv[1], "compare") || !strcmp(argv[1], "fetch") ||
                      !strcmp(argv[1], "train-pooler")))
        cm_interrupt_install();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("cmteb %s\n", CMTEB_VERSION);
        return 0;
    }
    /* library messages and progress go to stderr; --quiet keeps warnings only */
    int quiet = 0;
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q")) quiet = 1;
    cm_console_install(quiet);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            int rc = commands[i].fn(argc - 1, argv + 1);
            /* OpenBLAS's exit handler (gotoblas_quit) hangs when the address space is nearly exhausted (a small
             * ulimit -v): then skip the exit handlers; results and caches are on disk already */
            if (cm_address_space_left() < ((size_t)512 << 20)) {
                fflush(NULL);
                _exit(rc);
            }
            return rc;
        }
    fputs("cmteb: unknown command '", stderr);
    cm_console_put_escaped(stderr, argv[1]);
    fputs("'\n", stderr);
    usage(stderr);
    return 2;
}
