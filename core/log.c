/* log.c: the message and progress sinks (see log.h). */
#include "cmteb/log.h"

#include <stdarg.h>
#include <stdio.h>

static cm_log_fn      log_fn;
static void          *log_user;
static cm_progress_fn progress_fn;
static void          *progress_user;

void cm_log_set_sink(cm_log_fn fn, void *user) {
    log_fn = fn;
    log_user = user;
}

void cm_log(cm_log_level level, const char *fmt, ...) {
    if (!log_fn) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_fn(level, msg, log_user);
}

void cm_progress_set_sink(cm_progress_fn fn, void *user) {
    progress_fn = fn;
    progress_user = user;
}

int cm_progress_has_sink(void) { return progress_fn != NULL; }

void cm_progress_report(const cm_progress_event *ev) {
    if (progress_fn) progress_fn(ev, progress_user);
}
