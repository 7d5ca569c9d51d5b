/*
 * lazy_crypto.c: the libcrypto (OpenSSL) digest functions cmteb calls, forwarded to the library lazylib.c opens
 * on first use (see cmteb/lazylib.h). Defined with the names and prototypes of <openssl/evp.h>, which the
 * compiler checks against the header. Without the library each returns the function's failure value.
 */
#include <openssl/evp.h>

#include "core/lazylib_int.h"

#define CRYPTO_FUNCTIONS(X)                                                                                        \
    X(EVP_MD_CTX_new) X(EVP_MD_CTX_free) X(EVP_DigestInit_ex) X(EVP_DigestUpdate) X(EVP_DigestFinal_ex)          \
    X(EVP_sha1) X(EVP_sha256)

CRYPTO_FUNCTIONS(CM_LAZY_POINTER)
const cm_lazy_sym cm_lazy_crypto_syms[] = {CRYPTO_FUNCTIONS(CM_LAZY_ENTRY)};
const size_t      cm_lazy_crypto_n = sizeof cm_lazy_crypto_syms / sizeof cm_lazy_crypto_syms[0];

#define READY cm_lazy_ready(CM_LAZY_CRYPTO)

EVP_MD_CTX *EVP_MD_CTX_new(void) { return READY ? lazy_EVP_MD_CTX_new() : NULL; }
void        EVP_MD_CTX_free(EVP_MD_CTX *ctx) { if (READY) lazy_EVP_MD_CTX_free(ctx); }
int EVP_DigestInit_ex(EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl) {
    return READY ? lazy_EVP_DigestInit_ex(ctx, type, impl) : 0;
}
int EVP_DigestUpdate(EVP_MD_CTX *ctx, const void *d, size_t cnt) {
    return READY ? lazy_EVP_DigestUpdate(ctx, d, cnt) : 0;
}
int EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s) {
    return READY ? lazy_EVP_DigestFinal_ex(ctx, md, s) : 0;
}
const EVP_MD *EVP_sha1(void) { return READY ? lazy_EVP_sha1() : NULL; }
const EVP_MD *EVP_sha256(void) { return READY ? lazy_EVP_sha256() : NULL; }
