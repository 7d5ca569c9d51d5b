/*
 * lazylib_int.h: what the loader (lazylib.c) and the forwarders (lazy_curl.c, lazy_archive.c, lazy_crypto.c)
 * share (see cmteb/lazylib.h).
 *
 * Each forwarder file keeps one pointer per function, typed from the real header (__typeof__), lists them in
 * a table the loader fills with dlsym once, and defines every function as a call through its pointer, guarded
 * by cm_lazy_ready().
 */
#ifndef CMTEB_LAZYLIB_INT_H
#define CMTEB_LAZYLIB_INT_H

#include <stddef.h>

typedef enum { CM_LAZY_CURL, CM_LAZY_ARCHIVE, CM_LAZY_CRYPTO, CM_LAZY_N } cm_lazy_id;

/* One function to resolve: its name and the pointer that receives it. */
typedef struct cm_lazy_sym {
    const char *name;
    void      **slot;
} cm_lazy_sym;

extern const cm_lazy_sym cm_lazy_curl_syms[], cm_lazy_archive_syms[], cm_lazy_crypto_syms[];
extern const size_t      cm_lazy_curl_n, cm_lazy_archive_n, cm_lazy_crypto_n;

/* 1 when library id is loaded and all its symbols resolved (loading it on the first call; thread-safe), else 0.
 * Never touches the last error: cm_need_*() reports why. */
int cm_lazy_ready(cm_lazy_id id);

/* For a forwarder file's function list X(name): the pointer's declaration and its table entry. */
#define CM_LAZY_POINTER(name) static __typeof__(name) *lazy_##name;
#define CM_LAZY_ENTRY(name)   {#name, (void **)&lazy_##name},

#endif
