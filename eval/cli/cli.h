/*
 * cli.h: the cmteb subcommands and the small option parser they share.
 *
 * Each subcommand is `int cm_cmd_NAME(int argc, char **argv)` with argv[0] the
 * subcommand name; it returns the process exit code (0 success, 1 failure
 * with a one-line reason on stderr, 2 usage error) and prints its own --help.
 */
#ifndef CMTEB_EVAL_CLI_H
#define CMTEB_EVAL_CLI_H

#include <stddef.h>

#include "cmteb/encoder.h"
#include "cmteb/task.h"

int cm_cmd_list(int argc, char **argv);
int cm_cmd_run(int argc, char **argv);
int cm_cmd_report(int argc, char **argv);
int cm_cmd_embed(int argc, char **argv);
int cm_cmd_tokenize(int argc, char **argv);
int cm_cmd_info(int argc, char **argv);
int cm_cmd_compare(int argc, char **argv);
int cm_cmd_check(int argc, char **argv);
int cm_cmd_fetch(int argc, char **argv);
int cm_cmd_merge(int argc, char **argv);
int cm_cmd_train_pooler(int argc, char **argv);

struct cm_merge_params;
/* cm_shard_merge of dirs (n) and its table on stdout; returns the exit code (eval/cli/cmd_merge.c). */
int cm_cli_merge_dirs(const char *const *dirs, size_t n, const struct cm_merge_params *mp);

/* ---- MPI (eval/cli/mpi.c; real only in a build with Open MPI) ---------- */
/* 1 when the environment says this process is one rank of several launched by mpirun/srun (*size may be -1:
 * unknown); 0 otherwise. */
int  cm_cli_mpi_launched(long *size, long *rank);
/* 1 when the build has MPI. */
int  cm_cli_mpi_available(void);
/* MPI_Init and this rank's place in MPI_COMM_WORLD; CM_ERR_UNSUPPORTED without MPI in the build. */
int  cm_cli_mpi_begin(size_t *rank, size_t *size);
/* Every rank's ok (1) or not (0), combined: 1 when all are ok. A collective: every rank calls it once. */
int  cm_cli_mpi_all_ok(int ok);
void cm_cli_mpi_end(void);

/* Option parsing: walks argv; for "--name VALUE" / "--name=VALUE" returns 1
 * and sets *value when argv[*i] is that option (advancing *i past VALUE);
 * prints a usage error and sets *bad when the value is missing. */
int cm_opt_value(int argc, char **argv, int *i, const char *name, const char **value, int *bad);
/* Returns 1 when argv[*i] is the flag --name. */
int cm_opt_flag(char **argv, int i, const char *name);
/* Parses a non-negative integer option value; prints an error and returns -1 if bad. */
long cm_opt_long(const char *opt, const char *value);
/* A byte size: a number with an optional K/M/G/T suffix (powers of 1024; "8G", "512MiB", "1.5g"); -1 and a
 * message on stderr if malformed. */
double cm_opt_bytes(const char *opt, const char *value);

/* ---- options several commands share ------------------------------------ */

enum { CM_CLI_MAX_TASK_FILES = 64 };

/* Task selection: --tasks A,B, --benchmark NAME, --type TYPE, --task-file
 * FILE (repeatable). Strings borrow from argv. */
typedef struct cm_cli_tasks {
    const char *tasks, *benchmark, *type;
    const char *files[CM_CLI_MAX_TASK_FILES];
    int         n_files;
} cm_cli_tasks;

/* Returns 1 when argv[*i] is a task-selection option (consumed into t); sets
 * *bad (with a message on stderr) for a missing value or too many files. */
int cm_opt_tasks(int argc, char **argv, int *i, cm_cli_tasks *t, int *bad);
/* The built-in catalog plus t's task files (*cat, caller frees) and the tasks
 * t selects (*sel, caller frees the array; cm_catalog_select). */
int cm_cli_select_tasks(const cm_cli_tasks *t, cm_catalog **cat, const cm_task ***sel, size_t *n);

/* Engine options: --pooling, --attention, --normalize / --no-normalize,
 * --pool-instruction / --no-pool-instruction, --max-length N,
 * --query-template T, --document-template T, --device D, --dtype T. Returns 1 when
 * argv[*i] is one (parsed into p); sets *bad on a bad value. Which of them a
 * model takes is the backend's call (cm_encoder_init rejects the others). */
int cm_opt_engine(int argc, char **argv, int *i, cm_encoder_params *p, int *bad);

/* Prints "cmteb CMD: <last error>" (and a HINT line if hint) on stderr; returns 1. */
int cm_cli_fail(const char *cmd, const char *hint);
/* Prints "cmteb CMD: msg" and the usage hint; returns 2. */
int cm_cli_usage_error(const char *cmd, const char *msg);

#endif
