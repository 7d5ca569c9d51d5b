/*
 * lazy_curl.c: the libcurl functions cmteb calls, forwarded to the library lazylib.c opens on first use (see
 * cmteb/lazylib.h). Defined with the names and prototypes of <curl/curl.h>, which the compiler checks against
 * the header. Without the library each returns the function's failure value.
 */
#define CURL_DISABLE_TYPECHECK   /* its curl_easy_setopt/getinfo macros would rename the definitions below */
#include <curl/curl.h>

#include "core/lazylib_int.h"

#include <stdarg.h>

#define CURL_FUNCTIONS(X)                                                                                          \
    X(curl_easy_cleanup) X(curl_easy_getinfo) X(curl_easy_init) X(curl_easy_perform) X(curl_easy_reset)           \
    X(curl_easy_setopt) X(curl_easy_strerror) X(curl_free) X(curl_getdate) X(curl_global_init)                    \
    X(curl_multi_add_handle) X(curl_multi_cleanup) X(curl_multi_info_read) X(curl_multi_init)                     \
    X(curl_multi_perform) X(curl_multi_poll) X(curl_multi_remove_handle) X(curl_slist_append)                     \
    X(curl_slist_free_all) X(curl_url) X(curl_url_cleanup) X(curl_url_get) X(curl_url_set)

CURL_FUNCTIONS(CM_LAZY_POINTER)
const cm_lazy_sym cm_lazy_curl_syms[] = {CURL_FUNCTIONS(CM_LAZY_ENTRY)};
const size_t      cm_lazy_curl_n = sizeof cm_lazy_curl_syms / sizeof cm_lazy_curl_syms[0];

#define READY cm_lazy_ready(CM_LAZY_CURL)

/* Any function pointer: the callbacks of CURLOPTTYPE_FUNCTIONPOINT options travel through the ... as this. */
typedef void (*any_function)(void);

/* The one argument after option has the type the option's number gives (<curl/curl.h>, CURLOPTTYPE_*): read
 * it as that type and pass it on as that type. */
CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...) {
    if (!READY) return CURLE_FAILED_INIT;
    va_list ap;
    va_start(ap, option);
    CURLcode rc;
    int      o = (int)option;
    if (o < CURLOPTTYPE_OBJECTPOINT) rc = lazy_curl_easy_setopt(curl, option, va_arg(ap, long));
    else if (o < CURLOPTTYPE_FUNCTIONPOINT) rc = lazy_curl_easy_setopt(curl, option, va_arg(ap, void *));
    else if (o < CURLOPTTYPE_OFF_T) rc = lazy_curl_easy_setopt(curl, option, va_arg(ap, any_function));
    else if (o < CURLOPTTYPE_BLOB) rc = lazy_curl_easy_setopt(curl, option, va_arg(ap, curl_off_t));
    else rc = lazy_curl_easy_setopt(curl, option, va_arg(ap, void *));   /* struct curl_blob * */
    va_end(ap);
    return rc;
}

/* Every CURLINFO_* takes one pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...) {
    if (!READY) return CURLE_FAILED_INIT;
    va_list ap;
    va_start(ap, info);
    void *out = va_arg(ap, void *);
    va_end(ap);
    return lazy_curl_easy_getinfo(curl, info, out);
}

CURLcode curl_global_init(long flags) { return READY ? lazy_curl_global_init(flags) : CURLE_FAILED_INIT; }
CURL    *curl_easy_init(void) { return READY ? lazy_curl_easy_init() : NULL; }
CURLcode curl_easy_perform(CURL *curl) { return READY ? lazy_curl_easy_perform(curl) : CURLE_FAILED_INIT; }
void     curl_easy_reset(CURL *curl) { if (READY) lazy_curl_easy_reset(curl); }
void     curl_easy_cleanup(CURL *curl) { if (READY) lazy_curl_easy_cleanup(curl); }
void     curl_free(void *p) { if (READY) lazy_curl_free(p); }
time_t   curl_getdate(const char *p, const time_t *unused) { return READY ? lazy_curl_getdate(p, unused) : -1; }

const char *curl_easy_strerror(CURLcode code) {
    return READY ? lazy_curl_easy_strerror(code) : "libcurl could not be loaded";
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *data) {
    return READY ? lazy_curl_slist_append(list, data) : NULL;
}
void curl_slist_free_all(struct curl_slist *list) { if (READY) lazy_curl_slist_free_all(list); }

CURLM *curl_multi_init(void) { return READY ? lazy_curl_multi_init() : NULL; }
CURLMcode curl_multi_add_handle(CURLM *multi_handle, CURL *curl_handle) {
    return READY ? lazy_curl_multi_add_handle(multi_handle, curl_handle) : CURLM_BAD_HANDLE;
}
CURLMcode curl_multi_remove_handle(CURLM *multi_handle, CURL *curl_handle) {
    return READY ? lazy_curl_multi_remove_handle(multi_handle, curl_handle) : CURLM_BAD_HANDLE;
}
CURLMcode curl_multi_poll(CURLM *multi_handle, struct curl_waitfd extra_fds[], unsigned int extra_nfds,
                          int timeout_ms, int *ret) {
    return READY ? lazy_curl_multi_poll(multi_handle, extra_fds, extra_nfds, timeout_ms, ret) : CURLM_BAD_HANDLE;
}
CURLMcode curl_multi_perform(CURLM *multi_handle, int *running_handles) {
    return READY ? lazy_curl_multi_perform(multi_handle, running_handles) : CURLM_BAD_HANDLE;
}
CURLMcode curl_multi_cleanup(CURLM *multi_handle) {
    return READY ? lazy_curl_multi_cleanup(multi_handle) : CURLM_BAD_HANDLE;
}
CURLMsg *curl_multi_info_read(CURLM *multi_handle, int *msgs_in_queue) {
    if (READY) return lazy_curl_multi_info_read(multi_handle, msgs_in_queue);
    if (msgs_in_queue) *msgs_in_queue = 0;
    return NULL;
}

CURLU    *curl_url(void) { return READY ? lazy_curl_url() : NULL; }
void      curl_url_cleanup(CURLU *handle) { if (READY) lazy_curl_url_cleanup(handle); }
CURLUcode curl_url_get(CURLU *handle, CURLUPart what, char **part, unsigned int flags) {
    return READY ? lazy_curl_url_get(handle, what, part, flags) : CURLUE_BAD_HANDLE;
}
CURLUcode curl_url_set(CURLU *handle, CURLUPart what, const char *part, unsigned int flags) {
    return READY ? lazy_curl_url_set(handle, what, part, flags) : CURLUE_BAD_HANDLE;
}
