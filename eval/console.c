/*
 * console.c: the CLI's sinks for library messages and progress (see
 * console.h): messages to stderr, warnings prefixed "cmteb: warning: ";
 * progress as a bar redrawn in place on a terminal, or a plain line at most
 * every 10 seconds (and at the end of work that took 2 s or more) otherwise,
 * so that CI logs stay readable.
 */
#include "eval/console.h"
#include "cmteb/log.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static struct {
    int    quiet;
    int    tty;
    char   label[128];   /* the work the last progress line was about */
    double last_line;    /* elapsed time of the last plain line of that work */
    int    printed;
} con;

void cm_console_put_escaped(FILE *f, const char *s) {
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f) fprintf(f, "\\x%02x", *p);
        else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) { fprintf(f, "\\x%02x\\x%02x", p[0], p[1]); p++; }
        else fputc(*p, f);
    }
}

static void on_log(cm_log_level level, const char *msg, void *user) {
    (void)user;
    if (level != CM_LOG_WARN && con.quiet) return;
    if (level == CM_LOG_WARN) fputs("cmteb: warning: ", stderr);
    cm_console_put_escaped(stderr, msg);
    fputc('\n', stderr);
}

static void on_progress(const cm_progress_event *ev, void *user) {
    (void)user;
    if (con.quiet) return;
    if (strncmp(con.label, ev->label, sizeof con.label - 1) != 0) {
        snprintf(con.label, sizeof con.label, "%s", ev->label);
        con.last_line = 0;
        con.printed = 0;
    }
    char label[128];   /* the label without control bytes (it can name a data file) */
    snprintf(label, sizeof label, "%s", ev->label);
    for (char *c = label; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    double rate = ev->elapsed > 0 ? (double)ev->done / ev->elapsed : 0;
    double frac = ev->total ? (double)ev->done / (double)ev->total : 1;
    if (con.tty) {
        char bar[31];
        int fill = (int)(frac * 30);
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r%-40.40s [%s] %zu/%zu %5.1f%% %.0f/s %6.1fs%s", label, bar, ev->done, ev->total,
                100 * frac, rate, ev->elapsed, ev->final ? "\n" : "");
    } else {
        int due = ev->final ? (con.printed || ev->elapsed >= 2.0) : ev->elapsed - con.last_line >= 10.0;
        if (!due) return;
        fprintf(stderr, "%s: %zu/%zu (%.1f%%) %.0f/s %.1fs\n", label, ev->done, ev->total, 100 * frac, rate,
                ev->elapsed);
        con.last_line = ev->elapsed;
        con.printed = 1;
    }
    fflush(stderr);
}

void cm_console_install(int quiet) {
    con.quiet = quiet;
    con.tty = isatty(2);
    cm_log_set_sink(on_log, NULL);
    cm_progress_set_sink(on_progress, NULL);
}
