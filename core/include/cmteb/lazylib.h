/*
 * lazylib.h: libcurl, libarchive and libcrypto loaded with dlopen on first use.
 *
 * Linking them cost every cmteb process ~9 ms at start-up (libcurl alone brings ~30 shared objects), while
 * only the openai: backend and hub downloads (libcurl, libcrypto's digests) and tar members (libarchive) use
 * them. The executable links none of the three: core/lazy_curl.c, lazy_archive.c and lazy_crypto.c define
 * the functions cmteb calls, with the real headers' names and prototypes, and each forwards to the real
 * function found by dlsym. Call sites keep including <curl/curl.h> & co., so their compile-time checks
 * (curl_easy_setopt's typecheck-gcc.h included) are unchanged.
 *
 * A forwarder loads its library itself on its first call and, if that fails, returns the function's failure
 * value (NULL, CURLE_FAILED_INIT, ARCHIVE_FATAL, 0, -1) without touching the last error. Entry points call
 * cm_need_*() first instead, so that a missing library is reported with the message below.
 *
 * Each library is looked up by the soname of the one the build was configured against (libcurl.so.4,
 * libarchive.so.13, libcrypto.so.3 on Debian 12), or by the file named in CMTEB_LAZYLIB_PATH_CURL,
 * CMTEB_LAZYLIB_PATH_ARCHIVE or CMTEB_LAZYLIB_PATH_CRYPTO when set (read once, at the library's first use;
 * tests/unit/test_lazylib.c points one at a missing file).
 */
#ifndef CMTEB_LAZYLIB_H
#define CMTEB_LAZYLIB_H

#ifdef __cplusplus
extern "C" {
#endif

/* Loads libcurl (the HTTP of the openai: backend and of hub downloads) on the first call; thread-safe.
 * Returns CM_OK, or CM_ERR_UNSUPPORTED with a message naming the soname, dlerror()'s text (or the missing
 * symbol) and the Debian package to install (libcurl4). Later calls return the same outcome and set the
 * same message again. */
int cm_need_curl(void);

/* The same for libarchive (tar members; Debian package libarchive13). */
int cm_need_archive(void);

/* The same for libcrypto (sha256/sha1 of hub downloads; Debian package libssl3). */
int cm_need_crypto(void);

#ifdef __cplusplus
}
#endif
#endif
