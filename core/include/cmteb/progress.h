/*
 * progress.h: progress of one piece of work, reported through the progress
 * sink (log.h) at most every 0.2 s, and once at the end. How it is shown (a
 * bar on a terminal, a line every 10 s in a log) is the sink's business.
 * Quiet mode reports nothing.
 *
 * Ownership: label is borrowed and must outlive the progress.
 */
#ifndef CMTEB_PROGRESS_H
#define CMTEB_PROGRESS_H

#include <stddef.h>

typedef struct cm_progress {
    const char *label;   /* borrowed */
    size_t      total;
    size_t      done;
    double      start, last_report;
    int         quiet;
} cm_progress;

void cm_progress_begin(cm_progress *p, const char *label, size_t total, int quiet);
void cm_progress_update(cm_progress *p, size_t done);
void cm_progress_end(cm_progress *p);

#endif
