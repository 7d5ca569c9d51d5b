/* progress.c: rate-limited progress reports to the progress sink (see progress.h). */
#include "cmteb/progress.h"
#include "cmteb/log.h"
#include "cmteb/util.h"

void cm_progress_begin(cm_progress *p, const char *label, size_t total, int quiet) {
    p->label = label ? label : "";
    p->total = total;
    p->done = 0;
    p->start = p->last_report = cm_now();
    p->quiet = quiet;
}

static void report(const cm_progress *p, double now, int final) {
    cm_progress_event ev = {p->label, p->done, p->total, now - p->start, final};
    cm_progress_report(&ev);
}

void cm_progress_update(cm_progress *p, size_t done) {
    p->done = done;
    if (p->quiet || !cm_progress_has_sink()) return;
    double now = cm_now();
    if (now - p->last_report >= 0.2) {
        p->last_report = now;
        report(p, now, 0);
    }
}

void cm_progress_end(cm_progress *p) {
    if (p->quiet || !cm_progress_has_sink()) return;
    report(p, cm_now(), 1);
}
