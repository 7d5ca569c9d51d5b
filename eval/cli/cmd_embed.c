/* cmd_embed.c: `cmteb embed` (placeholder until it lands; says so plainly). */
#include "eval/cli/cli.h"

#include <stdio.h>

int cm_cmd_embed(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "cmteb embed: not implemented in this build yet\n");
    return 1;
}
