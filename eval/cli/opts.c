/* opts.c: the option parser shared by the subcommands (see cli.h). */
#include "eval/cli/cli.h"
#include "cmteb/status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cm_opt_flag(char **argv, int i, const char *name) { return strcmp(argv[i], name) == 0; }

int cm_opt_value(int argc, char **argv, int *i, const char *name, const char **value, int *bad) {
    const char *a = argv[*i];
    size_t ln = strlen(name);
    if (strncmp(a, name, ln) != 0) return 0;
    if (a[ln] == '=') {
        *value = a + ln + 1;
        return 1;
    }
    if (a[ln] != '\0') return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "cmteb: option %s needs a value\n", name);
        *bad = 1;
        return 1;
    }
    *value = argv[++*i];
    return 1;
}

long cm_opt_long(const char *opt, const char *value) {
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || *end || v < 0 || end == value) {
        fprintf(stderr, "cmteb: option %s expects a non-negative integer, got '%s'\n", opt, value);
        return -1;
    }
    return v;
}

double cm_opt_bytes(const char *opt, const char *value) {
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    double mult = 1;
    switch (*end) {
    case 'k': case 'K': mult = 1024.0; end++; break;
    case 'm': case 'M': mult = 1024.0 * 1024; end++; break;
    case 'g': case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    if (*end == 'i' || *end == 'I') end++;
    if (*end == 'b' || *end == 'B') end++;
    if (errno || *end || end == value || !(v > 0) || v * mult > 1e18) {
        fprintf(stderr, "cmteb: option %s expects a size such as 512M or 8G, got '%s'\n", opt, value);
        return -1;
    }
    return v * mult;
}

int cm_cli_fail(const char *cmd, const char *hint) {
    fprintf(stderr, "cmteb %s: %s\n", cmd, cm_last_error()[0] ? cm_last_error() : "failed");
    if (hint) fprintf(stderr, "HINT: %s\n", hint);
    return 1;
}

int cm_cli_usage_error(const char *cmd, const char *msg) {
    fprintf(stderr, "cmteb %s: %s\nRun 'cmteb %s --help' for usage.\n", cmd, msg, cmd);
    return 2;
}
