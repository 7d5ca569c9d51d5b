/*
 * memcap.h: the address space OpenBLAS needs under a user's `ulimit -v`
 * (RLIMIT_AS), checked before it is needed.
 *
 * Debian's OpenBLAS 0.3.21 never fails cleanly when it runs out of address
 * space: when its library initializer cannot create its thread pool it raises
 * SIGINT (the process dies with no message of ours), and when its first BLAS
 * call in a thread cannot map the 128 MiB work buffer it retries forever (the
 * process spins). Upstream fixed both later (OpenBLAS PR #5303). The CLI calls
 * cm_memcap_check_start from the executable's .preinit_array, which runs
 * before any shared library's initializer, so that a cap too small for either
 * ends with an error naming the limit instead.
 */
#ifndef CMTEB_MEMCAP_H
#define CMTEB_MEMCAP_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Threads OpenBLAS's pool will hold (its own reading of OPENBLAS_NUM_THREADS,
 * GOTO_NUM_THREADS, OMP_NUM_THREADS, else the CPUs this process may use),
 * the calling thread included; at least 1. */
int    cm_memcap_blas_threads(void);
/* Bytes of address space OpenBLAS needs beyond what is mapped when the
 * process starts: the stacks of its pool threads (RLIMIT_STACK, 8 MiB when
 * unlimited, plus a guard page each) and, when callers > 0, one work buffer
 * (128 MiB + a page) per thread that calls BLAS at the same time, plus
 * margin bytes for everything else. */
size_t cm_memcap_blas_need(int callers, size_t margin);
/* CM_OK without a finite RLIMIT_AS or when cm_address_space_left() covers
 * cm_memcap_blas_need(callers, margin); else CM_ERR_NOMEM with a message
 * naming the limit, what was needed and how to fix it (cm_last_error). Uses
 * no library state beyond libc, so it may run before the libraries' own
 * initializers. */
int    cm_memcap_check_start(int callers, size_t margin);

#ifdef __cplusplus
}
#endif

#endif
