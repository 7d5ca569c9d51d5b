/*
 * status.h: status codes and the thread-local last error.
 *
 * Every fallible cmteb function returns an int: CM_OK (0) on success, a negative
 * cm_status on failure. The failing function also records a readable message
 * (file, line, field and what was expected) that cm_last_error() returns; the
 * message is thread-local and stays valid until the next cmteb call on the same
 * thread that fails. Programmer errors (broken invariants) abort through
 * CM_ASSERT with file:line instead.
 */
#ifndef CMTEB_STATUS_H
#define CMTEB_STATUS_H

#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cm_status {
    CM_OK              =  0,
    CM_ERR_IO          = -1,  /* a file could not be opened, read or written */
    CM_ERR_NOMEM       = -2,  /* an allocation failed */
    CM_ERR_FORMAT      = -3,  /* malformed input: bad JSON, wrong field type, bad dtype */
    CM_ERR_ARG         = -4,  /* a bad argument or option value */
    CM_ERR_UNSUPPORTED = -5,  /* a valid request this build cannot do */
    CM_ERR_NOTFOUND    = -6,  /* a task, file, tensor or text that should exist does not */
    CM_ERR_NUMERIC     = -7,  /* NaN/Inf where finite numbers were expected */
    CM_ERR_INTERRUPTED = -8,  /* stopped by a signal */
    CM_ERR_INTERNAL    = -9,  /* a dependency (BLAS, FAISS, CUDA, HTTP) failed */
} cm_status;

/* Static text for a status code ("I/O error", ...). Never NULL. */
const char *cm_status_str(int rc);

/* The message of the last failure on this thread ("" if none). Borrowed. */
const char *cm_last_error(void);

/* Records a printf-style message for this thread and returns rc, so that a
 * failure reads: `return cm_error(CM_ERR_FORMAT, "%s:%zu: expected ...", f, l);` */
int cm_error(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes the current message with "context: " (keeps the message otherwise)
 * and returns rc. Used to add the task or file name on the way up. */
int cm_error_wrap(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clears the last error. */
void cm_error_clear(void);

#define CM_ASSERT(cond)                                                        \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "cmteb: assertion failed: %s (%s:%d)\n", #cond,    \
                    __FILE__, __LINE__);                                       \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* Propagates a failing status: CM_TRY(cm_foo(...)); */
#define CM_TRY(expr)                                                           \
    do {                                                                       \
        int cm_try_rc_ = (expr);                                               \
        if (cm_try_rc_ != CM_OK) return cm_try_rc_;                            \
    } while (0)

#ifdef __cplusplus
}
#endif
#endif
