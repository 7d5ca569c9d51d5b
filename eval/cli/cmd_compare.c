/* cmd_compare.c: `cmteb compare` (placeholder until it lands; says so plainly). */
#include "eval/cli/cli.h"

#include <stdio.h>

int cm_cmd_compare(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "cmteb compare: not implemented in this build yet\n");
    return 1;
}
