/*
 * log.h: messages and progress from the library go through one callback.
 *
 * No library file prints: a layer that has something to say (a warning about
 * skipped input lines, a task's progress, a load summary) calls cm_log or
 * reports progress, and the sink the program installed decides what to do
 * with it. The CLI (eval/) installs one that writes to stderr and draws the
 * progress bar; without a sink nothing is printed.
 *
 * Ownership: the message passed to a sink is borrowed for the call. Sinks are
 * process-wide; install them before starting threads.
 */
#ifndef CMTEB_LOG_H
#define CMTEB_LOG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cm_log_level {
    CM_LOG_DEBUG = 0,  /* detail (per-set scores, per-experiment accuracies) */
    CM_LOG_INFO  = 1,  /* what a run is doing ("STSBenchmark (STS): evaluating") */
    CM_LOG_WARN  = 2,  /* input was dropped or a side effect failed; the run goes on */
} cm_log_level;

typedef void (*cm_log_fn)(cm_log_level level, const char *msg, void *user);

/* Installs the sink (NULL: drop messages). */
void cm_log_set_sink(cm_log_fn fn, void *user);
/* Formats and hands a message (no trailing newline) to the sink. */
void cm_log(cm_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One progress report: `done` of `total` units of the work `label` after
 * `elapsed` seconds; final is 1 on the last report of that work. */
typedef struct cm_progress_event {
    const char *label;
    size_t      done, total;
    double      elapsed;
    int         final;
} cm_progress_event;

typedef void (*cm_progress_fn)(const cm_progress_event *ev, void *user);

/* Installs the progress sink (NULL: no progress reports). */
void cm_progress_set_sink(cm_progress_fn fn, void *user);
/* Whether a progress sink is installed (callers may skip the bookkeeping). */
int  cm_progress_has_sink(void);
void cm_progress_report(const cm_progress_event *ev);

#ifdef __cplusplus
}
#endif
#endif
