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

int cm_cmd_list(int argc, char **argv);
int cm_cmd_run(int argc, char **argv);
int cm_cmd_report(int argc, char **argv);
int cm_cmd_embed(int argc, char **argv);
int cm_cmd_tokenize(int argc, char **argv);
int cm_cmd_info(int argc, char **argv);
int cm_cmd_compare(int argc, char **argv);
int cm_cmd_check(int argc, char **argv);

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

/* Prints "cmteb CMD: <last error>" (and a HINT line if hint) on stderr; returns 1. */
int cm_cli_fail(const char *cmd, const char *hint);
/* Prints "cmteb CMD: msg" and the usage hint; returns 2. */
int cm_cli_usage_error(const char *cmd, const char *msg);

#endif
