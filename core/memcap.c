/* memcap.c: the address space OpenBLAS needs under a `ulimit -v` (see memcap.h). */
#include "cmteb/memcap.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <sched.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

/* OpenBLAS's BUFFER_SIZE on x86_64 (128 MiB) plus the page it adds; its pool threads get default stacks. */
#define BLAS_BUFFER ((size_t)128 << 20)
#define BLAS_PAGE   ((size_t)4096)

/* The first of OpenBLAS's thread-count variables that holds a positive number, else 0. */
static int env_threads(void) {
    static const char *const vars[] = {"OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        long n = v ? strtol(v, NULL, 10) : 0;   /* OpenBLAS reads the leading number, as atoi does */
        if (n > 0) return n > 1024 ? 1024 : (int)n;
    }
    return 0;
}

int cm_memcap_blas_threads(void) {
    int n = env_threads();
    if (n > 0) return n;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (int)(c > 1024 ? 1024 : c) : 1;
}

size_t cm_memcap_blas_need(int callers, size_t margin) {
    struct rlimit rl;
    size_t stack = (size_t)8 << 20;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < ((size_t)1 << 32))
        stack = (size_t)rl.rlim_cur;
    size_t pool = (size_t)(cm_memcap_blas_threads() - 1);
    return pool * (stack + BLAS_PAGE) + (size_t)(callers > 0 ? callers : 0) * (BLAS_BUFFER + BLAS_PAGE) + margin;
}

int cm_memcap_check_start(int callers, size_t margin) {
    size_t left = cm_address_space_left(), need = cm_memcap_blas_need(callers, margin);
    if (left == SIZE_MAX || left >= need) return CM_OK;
    struct rlimit rl;
    getrlimit(RLIMIT_AS, &rl);
    int pool = cm_memcap_blas_threads();
    char buffers[160] = "";
    if (callers > 0)
        snprintf(buffers, sizeof buffers, ", a 128 MiB buffer for each of the %d threads that call it", callers);
    return cm_error(CM_ERR_NOMEM,
                    "the address-space limit (ulimit -v %llu kB) leaves %zu MiB after loading the libraries, but "
                    "OpenBLAS needs about %zu MiB (stacks for its %d pool thread(s)%s, and working memory): raise "
                    "the limit to at least %llu kB%s, or set OPENBLAS_NUM_THREADS=1",
                    (unsigned long long)rl.rlim_cur / 1024, left >> 20, need >> 20, pool - 1, buffers,
                    ((unsigned long long)rl.rlim_cur - left + need) / 1024 + 1,
                    callers > 0 ? ", use fewer --threads" : "");
}
