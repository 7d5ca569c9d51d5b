/* cmd_tokenize.c: `cmteb tokenize` (placeholder until it lands; says so plainly). */
#include "eval/cli/cli.h"

#include <stdio.h>

int cm_cmd_tokenize(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "cmteb tokenize: not implemented in this build yet\n");
    return 1;
}
