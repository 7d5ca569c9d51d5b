/* cmd_info.c: `cmteb info` (placeholder until it lands; says so plainly). */
#include "eval/cli/cli.h"

#include <stdio.h>

int cm_cmd_info(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "cmteb info: not implemented in this build yet\n");
    return 1;
}
