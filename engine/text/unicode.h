/*
 * unicode.h: the Unicode facts the tokenizers need, from tables generated
 * by tests/reference/gen_unicode_tables.py into unicode_tables.c: UTF-8
 * decoding/encoding, general category, White_Space, simple+full lowercase,
 * canonical decomposition (NFD) with canonical ordering.
 *
 * No allocation here except cm_u_nfd/cm_u_lower (documented below).
 */
#ifndef CMTEB_ENGINE_TEXT_UNICODE_H
#define CMTEB_ENGINE_TEXT_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* General categories (Unicode order). */
typedef enum cm_ucat {
    CM_UCAT_Cn = 0, CM_UCAT_Lu, CM_UCAT_Ll, CM_UCAT_Lt, CM_UCAT_Lm, CM_UCAT_Lo,
    CM_UCAT_Mn, CM_UCAT_Mc, CM_UCAT_Me, CM_UCAT_Nd, CM_UCAT_Nl, CM_UCAT_No,
    CM_UCAT_Pc, CM_UCAT_Pd, CM_UCAT_Ps, CM_UCAT_Pe, CM_UCAT_Pi, CM_UCAT_Pf, CM_UCAT_Po,
    CM_UCAT_Sm, CM_UCAT_Sc, CM_UCAT_Sk, CM_UCAT_So,
    CM_UCAT_Zs, CM_UCAT_Zl, CM_UCAT_Zp,
    CM_UCAT_Cc, CM_UCAT_Cf, CM_UCAT_Cs, CM_UCAT_Co,
} cm_ucat;

/* Decodes one code point from s[0..n) (n >= 1). Returns the bytes used
 * (1..4); an invalid or truncated sequence yields *cp = 0xFFFFFFFF and 1. */
size_t   cm_utf8_decode(const char *s, size_t n, uint32_t *cp);
/* Encodes cp into buf (4 bytes); returns the length. */
size_t   cm_utf8_encode(uint32_t cp, char buf[4]);
/* Byte length of the character starting at lead byte c (1 for invalid). */
size_t   cm_utf8_len(unsigned char c);

cm_ucat  cm_u_category(uint32_t cp);
int      cm_u_is_whitespace(uint32_t cp);        /* Unicode White_Space property */
int      cm_u_is_punct(uint32_t cp);             /* categories P* */
int      cm_u_is_mark_nonspacing(uint32_t cp);   /* Mn */
uint8_t  cm_u_ccc(uint32_t cp);                  /* canonical combining class */
/* Full lowercase mapping (Rust char::to_lowercase): writes up to 3 code
 * points to out, returns how many. */
int      cm_u_lower(uint32_t cp, uint32_t out[3]);
/* Full canonical decomposition of one code point (recursive, Hangul
 * included), unordered: writes up to 18 code points, returns how many. */
int      cm_u_decompose(uint32_t cp, uint32_t out[18]);
/* Reorders cps[0..n) by canonical combining class (stable within runs of
 * non-starters), completing NFD after cm_u_decompose. */
void     cm_u_canonical_order(uint32_t *cps, size_t n);

#endif
