/*
 * progress.h: progress reporting on stderr. A bar redrawn in place when
 * stderr is a terminal; otherwise a plain line at most every 10 seconds (and
 * at the end), so logs of CI runs stay readable. Quiet mode prints nothing.
 */
#ifndef CMTEB_EVAL_PROGRESS_H
#define CMTEB_EVAL_PROGRESS_H

#include <stddef.h>

typedef struct cm_progress {
    const char *label;   /* borrowed */
    size_t      total;
    size_t      done;
    double      start, last_print;
    int         tty, quiet, printed;
} cm_progress;

void cm_progress_begin(cm_progress *p, const char *label, size_t total, int quiet);
void cm_progress_update(cm_progress *p, size_t done);
void cm_progress_end(cm_progress *p);

#endif
