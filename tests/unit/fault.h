/*
 * fault.h: the failing allocator of the fault-injection tests
 * (test_core_containers.c, test_fault_injection.c, test_fault_commands.c,
 * test_fault_shard.c, test_results_write.c),
 * installed with cm_set_alloc_hooks (core/util.c).
 *
 * fault_arm(k) fails allocation number k, counted from arming, and lets every
 * other one through (k = 0: count only); fault_disarm() puts malloc back.
 * fault_allocs and fault_injected count the allocations and the failures
 * injected since the last fault_arm (atomically: workers allocate too).
 * Also the sweeps' housekeeping: fault_runs (the CMTEB_FAULT_RUNS override of
 * a sweep's run count), fault_rm_rf (rm -rf, no allocation through
 * the hooks) and fault_quiet_stderr / fault_restore_stderr (the hundreds of
 * expected failure messages go to /dev/null; the saved stream reports).
 */
#ifndef CMTEB_TEST_FAULT_H
#define CMTEB_TEST_FAULT_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmteb/util.h"

static long fault_at_, fault_allocs, fault_injected;

static inline int fault_should_fail_(void) {
    long k = __atomic_add_fetch(&fault_allocs, 1, __ATOMIC_RELAXED);
    if (fault_at_ && k == fault_at_) {
        __atomic_add_fetch(&fault_injected, 1, __ATOMIC_RELAXED);
        return 1;
    }
    return 0;
}
static inline void *fault_malloc_(size_t n) { return fault_should_fail_() ? NULL : malloc(n); }
static inline void *fault_realloc_(void *p, size_t n) { return fault_should_fail_() ? NULL : realloc(p, n); }

static inline void fault_arm(long k) {
    fault_allocs = 0;
    fault_injected = 0;
    fault_at_ = k;
    cm_set_alloc_hooks(&(cm_alloc_hooks){fault_malloc_, fault_realloc_});
}
static inline void fault_disarm(void) { cm_set_alloc_hooks(NULL); }

/* The runs per phase: CMTEB_FAULT_RUNS when set to a positive number (an exhaustive sweep by hand), else dflt. */
static inline long fault_runs(long dflt) {
    const char *v = getenv("CMTEB_FAULT_RUNS");
    return v && atol(v) > 0 ? atol(v) : dflt;
}

static inline int fault_rm_one_(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)st; (void)flag; (void)f;
    return remove(p);
}
static inline void fault_rm_rf(const char *dir) { nftw(dir, fault_rm_one_, 16, FTW_DEPTH | FTW_PHYS); }

/* Sends stderr to /dev/null; returns the real one (NULL if it could not be kept) for fault_restore_stderr. */
static inline FILE *fault_quiet_stderr(void) {
    fflush(stderr);
    int saved = dup(2);
    FILE *null = fopen("/dev/null", "w");
    if (null) dup2(fileno(null), 2);
    if (null) fclose(null);
    return saved >= 0 ? fdopen(saved, "w") : NULL;
}
static inline void fault_restore_stderr(FILE *saved) {
    fflush(stderr);
    if (saved) { dup2(fileno(saved), 2); fclose(saved); }
}

#endif
