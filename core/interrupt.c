/* interrupt.c: the stop flag set by SIGINT/SIGTERM (see interrupt.h). */
#include "cmteb/interrupt.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;
static unsigned cm_interrupt_grace = 60;   /* seconds; $CMTEB_STOP_GRACE */

/* The grace period after the first signal: a process stuck where no loop
 * checks the flag (a dependency that retries an allocation forever, a hung
 * read) still ends, with the status of an interrupt. */
static void on_grace_over(int sig) {
    (void)sig;
    _exit(130);
}

static void on_signal(int sig) {
    if (stop_flag) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stop_flag = 1;
    alarm(cm_interrupt_grace);
}

void cm_interrupt_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_grace_over;
    sigaction(SIGALRM, &sa, NULL);
    const char *g = getenv("CMTEB_STOP_GRACE");
    if (g && *g) {
        char *end;
        long v = strtol(g, &end, 10);
        if (!*end && v >= 1 && v <= 86400) cm_interrupt_grace = (unsigned)v;
    }
}

int cm_interrupted(void) { return stop_flag != 0; }
