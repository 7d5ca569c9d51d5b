/* cmd_report.c: `cmteb report` (placeholder until it lands; says so plainly). */
#include "eval/cli/cli.h"

#include <stdio.h>

int cm_cmd_report(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "cmteb report: not implemented in this build yet\n");
    return 1;
}
