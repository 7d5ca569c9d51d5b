/*
 * console.h: where the CLI shows what the library reports: installs the
 * log and progress sinks (cmteb/log.h) that write to stderr. quiet keeps
 * warnings only.
 */
#ifndef CMTEB_EVAL_CONSOLE_H
#define CMTEB_EVAL_CONSOLE_H

void cm_console_install(int quiet);

#endif
