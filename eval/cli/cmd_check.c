/* cmd_check.c: `cmteb check` (placeholder until it lands; says so plainly). */
#include "eval/cli/cli.h"

#include <stdio.h>

int cm_cmd_check(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "cmteb check: not implemented in this build yet\n");
    return 1;
}
