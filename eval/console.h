/*
 * console.h: where the CLI shows what the library reports: installs the
 * log and progress sinks (cmteb/log.h) that write to stderr. quiet keeps
 * warnings only.
 */
#ifndef CMTEB_EVAL_CONSOLE_H
#define CMTEB_EVAL_CONSOLE_H

#include <stdio.h>

void cm_console_install(int quiet);

/* Writes s to f with the bytes a terminal would act on (C0 controls but
 * '\n' and '\t', DEL, and the UTF-8 encodings of the C1 controls U+0080..U+009F)
 * shown as \xNN, so text from data files cannot inject escape sequences.
 * Every CLI message that can hold such text goes through it. */
void cm_console_put_escaped(FILE *f, const char *s);

#endif
