/* lazylib.c: libcurl, libarchive and libcrypto opened with dlopen on first use (see cmteb/lazylib.h). */
#include "cmteb/lazylib.h"
#include "core/lazylib_int.h"
#include "cmteb/status.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* The sonames of the libraries the build was configured against (CMakeLists.txt reads them from the files). */
#ifndef CMTEB_CURL_SONAME
#define CMTEB_CURL_SONAME "libcurl.so.4"
#endif
#ifndef CMTEB_ARCHIVE_SONAME
#define CMTEB_ARCHIVE_SONAME "libarchive.so.13"
#endif
#ifndef CMTEB_CRYPTO_SONAME
#define CMTEB_CRYPTO_SONAME "libcrypto.so.3"
#endif

typedef struct lazylib {
    const char        *soname;    /* dlopen'ed unless env names a file */
    const char        *env;       /* CMTEB_LAZYLIB_PATH_* */
    const char        *used_for;  /* what needs it, for the message */
    const char        *package;   /* Debian's package */
    const cm_lazy_sym *syms;
    const size_t      *n_syms;
    pthread_once_t     once;
    int                ok;
    char               why[1024];  /* the message when !ok */
} lazylib;

static lazylib libs[CM_LAZY_N] = {
    [CM_LAZY_CURL] = {CMTEB_CURL_SONAME, "CMTEB_LAZYLIB_PATH_CURL", "HTTP (the openai: backend, hub downloads)",
                      "libcurl4", cm_lazy_curl_syms, &cm_lazy_curl_n, PTHREAD_ONCE_INIT, 0, ""},
    [CM_LAZY_ARCHIVE] = {CMTEB_ARCHIVE_SONAME, "CMTEB_LAZYLIB_PATH_ARCHIVE", "reading tar archives", "libarchive13",
                         cm_lazy_archive_syms, &cm_lazy_archive_n, PTHREAD_ONCE_INIT, 0, ""},
    [CM_LAZY_CRYPTO] = {CMTEB_CRYPTO_SONAME, "CMTEB_LAZYLIB_PATH_CRYPTO", "checking hub downloads (sha256, sha1)",
                        "libssl3", cm_lazy_crypto_syms, &cm_lazy_crypto_n, PTHREAD_ONCE_INIT, 0, ""},
};

/* Opens lib and resolves all its symbols, or leaves lib->ok 0 and the reason in lib->why. The handle stays open
 * for the life of the process. */
static void load(lazylib *lib) {
    const char *path = getenv(lib->env);
    if (!path || !*path) path = lib->soname;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(lib->why, sizeof lib->why, "cannot load %s, needed for %s: %s (Debian: apt-get install %s)", path,
                 lib->used_for, e ? e : "unknown dlopen error", lib->package);
        return;
    }
    for (size_t i = 0; i < *lib->n_syms; i++) {
        *lib->syms[i].slot = dlsym(h, lib->syms[i].name);
        if (!*lib->syms[i].slot) {
            snprintf(lib->why, sizeof lib->why, "%s, needed for %s, has no %s (Debian: apt-get install %s)", path,
                     lib->used_for, lib->syms[i].name, lib->package);
            return;   /* not closed: the process may already hold the library for other reasons */
        }
    }
    lib->ok = 1;
}

static void load_curl(void) { load(&libs[CM_LAZY_CURL]); }
static void load_archive(void) { load(&libs[CM_LAZY_ARCHIVE]); }
static void load_crypto(void) { load(&libs[CM_LAZY_CRYPTO]); }
static void (*const loaders[CM_LAZY_N])(void) = {load_curl, load_archive, load_crypto};

int cm_lazy_ready(cm_lazy_id id) {
    pthread_once(&libs[id].once, loaders[id]);
    return libs[id].ok;
}

static int need(cm_lazy_id id) {
    if (cm_lazy_ready(id)) return CM_OK;
    return cm_error(CM_ERR_UNSUPPORTED, "%s", libs[id].why);
}

int cm_need_curl(void) { return need(CM_LAZY_CURL); }
int cm_need_archive(void) { return need(CM_LAZY_ARCHIVE); }
int cm_need_crypto(void) { return need(CM_LAZY_CRYPTO); }
