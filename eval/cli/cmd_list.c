/* cmd_list.c: placeholder. */
#include "eval/cli/cli.h"
#include <stdio.h>
int cm_cmd_list(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "cmteb list: not implemented yet\n"); return 1; }
