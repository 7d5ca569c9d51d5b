/*
 * fault.h: the failing allocator of the fault-injection tests
 * (test_core_containers.c, test_fault_injection.c, test_results_write.c),
 * installed with cm_set_alloc_hooks (core/util.c).
 *
 * fault_arm(k) fails allocation number k, counted from arming, and lets every
 * other one through (k = 0: count only); fault_disarm() puts malloc back.
 * fault_allocs and fault_injected count the allocations and the failures
 * injected since the last fault_arm (atomically: workers allocate too).
 */
#ifndef CMTEB_TEST_FAULT_H
#define CMTEB_TEST_FAULT_H

#include <stdlib.h>

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

#endif
