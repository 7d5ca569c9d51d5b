/* status.c: status strings and the thread-local last error (see status.h). */
#include "cmteb/status.h"

#include <stdarg.h>
#include <string.h>

static _Thread_local char last_error[2048];

const char *cm_status_str(int rc) {
    switch (rc) {
    case CM_OK:              return "ok";
    case CM_ERR_IO:          return "I/O error";
    case CM_ERR_NOMEM:       return "out of memory";
    case CM_ERR_FORMAT:      return "malformed input";
    case CM_ERR_ARG:         return "invalid argument";
    case CM_ERR_UNSUPPORTED: return "unsupported";
    case CM_ERR_NOTFOUND:    return "not found";
    case CM_ERR_NUMERIC:     return "non-finite number";
    case CM_ERR_INTERRUPTED: return "interrupted";
    case CM_ERR_INTERNAL:    return "internal error";
    default:                 return "unknown error";
    }
}

const char *cm_last_error(void) { return last_error; }

void cm_error_clear(void) { last_error[0] = '\0'; }

int cm_error(int rc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return rc;
}

int cm_error_wrap(int rc, const char *fmt, ...) {
    char prefix[512], old[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    const char *rest = old[0] ? old : cm_status_str(rc);
    size_t lp = strlen(prefix), lr = strlen(rest);
    if (lp > sizeof last_error - 3) lp = sizeof last_error - 3;
    if (lr > sizeof last_error - 3 - lp) lr = sizeof last_error - 3 - lp;
    memcpy(last_error, prefix, lp);
    memcpy(last_error + lp, ": ", 2);
    memcpy(last_error + lp + 2, rest, lr);
    last_error[lp + 2 + lr] = '\0';
    return rc;
}
