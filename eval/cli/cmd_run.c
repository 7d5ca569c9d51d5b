/* cmd_run.c: placeholder. */
#include "eval/cli/cli.h"
#include <stdio.h>
int cm_cmd_run(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "cmteb run: not implemented yet\n"); return 1; }
