/* progress.c: progress bars and periodic lines on stderr (see progress.h). */
#include "cmteb/progress.h"
#include "cmteb/util.h"

#include <stdio.h>
#include <unistd.h>

void cm_progress_begin(cm_progress *p, const char *label, size_t total, int quiet) {
    p->label = label ? label : "";
    p->total = total;
    p->done = 0;
    p->start = p->last_print = cm_now();
    p->tty = isatty(2);
    p->quiet = quiet;
    p->printed = 0;
}

static void draw(cm_progress *p, int final) {
    double el = cm_now() - p->start;
    double rate = el > 0 ? (double)p->done / el : 0;
    double frac = p->total ? (double)p->done / (double)p->total : 1;
    if (p->tty) {
        char bar[31];
        int fill = (int)(frac * 30);
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r%-40.40s [%s] %zu/%zu %5.1f%% %.0f/s %6.1fs%s", p->label, bar, p->done, p->total,
                100 * frac, rate, el, final ? "\n" : "");
    } else {
        fprintf(stderr, "%s: %zu/%zu (%.1f%%) %.0f/s %.1fs\n", p->label, p->done, p->total, 100 * frac, rate, el);
    }
    fflush(stderr);
    p->printed = 1;
}

void cm_progress_update(cm_progress *p, size_t done) {
    p->done = done;
    if (p->quiet) return;
    double now = cm_now();
    if ((p->tty && now - p->last_print >= 0.2) || (!p->tty && now - p->last_print >= 10.0)) {
        p->last_print = now;
        draw(p, 0);
    }
}

void cm_progress_end(cm_progress *p) {
    if (p->quiet) return;
    /* a short job that never printed stays silent on non-terminals */
    if (p->tty || p->printed || cm_now() - p->start >= 2.0) draw(p, 1);
}
