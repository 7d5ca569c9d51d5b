/*
 * unicode.c: implements unicode.h over the generated tables in
 * unicode_tables.c (binary searches over sorted ranges / code points) and
 * the Hangul syllable algorithm.
 */
#include "engine/text/unicode.h"

#include <string.h>

extern const uint32_t cm_u_cat_ranges[][3];
extern const size_t cm_u_cat_nranges;
extern const uint32_t cm_u_ccc_ranges[][3];
extern const size_t cm_u_ccc_nranges;
extern const uint32_t cm_u_decomp_index[][3];
extern const size_t cm_u_decomp_n;
extern const uint32_t cm_u_decomp_data[];
extern const uint32_t cm_u_lower_map[][5];
extern const size_t cm_u_lower_n;

size_t cm_utf8_len(unsigned char c) {
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) return 2;
    if ((c & 0xF0) == 0xE0) return 3;
    if ((c & 0xF8) == 0xF0) return 4;
    return 1;
}

size_t cm_utf8_decode(const char *s, size_t n, uint32_t *cp) {
    const unsigned char *u = (const unsigned char *)s;
    unsigned char c = u[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len = cm_utf8_len(c);
    if (len == 1 || len > n) goto bad;
    uint32_t v = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    for (size_t i = 1; i < len; i++) {
        if ((u[i] & 0xC0) != 0x80) goto bad;
        v = (v << 6) | (u[i] & 0x3F);
    }
    /* overlong, surrogate, out of range */
    if ((len == 2 && v < 0x80) || (len == 3 && v < 0x800) || (len == 4 && v < 0x10000) || v > 0x10FFFF ||
        (v >= 0xD800 && v <= 0xDFFF))
        goto bad;
    *cp = v;
    return len;
bad:
    *cp = 0xFFFFFFFFu;
    return 1;
}

size_t cm_utf8_encode(uint32_t cp, char buf[4]) {
    if (cp < 0x80) {
        buf[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        buf[0] = (char)(0xC0 | (cp >> 6));
        buf[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = (char)(0xE0 | (cp >> 12));
        buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    buf[0] = (char)(0xF0 | (cp >> 18));
    buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static uint32_t range_lookup(const uint32_t (*r)[3], size_t n, uint32_t cp) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < r[mid][0]) hi = mid;
        else if (cp > r[mid][1]) lo = mid + 1;
        else return r[mid][2];
    }
    return 0;
}

cm_ucat cm_u_category(uint32_t cp) {
    if (cp > 0x10FFFF) return CM_UCAT_Cn;
    return (cm_ucat)range_lookup(cm_u_cat_ranges, cm_u_cat_nranges, cp);
}

int cm_u_is_whitespace(uint32_t cp) {
    switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
        return 1;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

int cm_u_is_punct(uint32_t cp) {
    cm_ucat c = cm_u_category(cp);
    return c >= CM_UCAT_Pc && c <= CM_UCAT_Po;
}

int cm_u_is_mark_nonspacing(uint32_t cp) { return cm_u_category(cp) == CM_UCAT_Mn; }

uint8_t cm_u_ccc(uint32_t cp) {
    if (cp < 0x300) return 0;
    return (uint8_t)range_lookup(cm_u_ccc_ranges, cm_u_ccc_nranges, cp);
}

int cm_u_lower(uint32_t cp, uint32_t out[3]) {
    if (cp < 0x80) {
        out[0] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
        return 1;
    }
    size_t lo = 0, hi = cm_u_lower_n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint32_t k = cm_u_lower_map[mid][0];
        if (cp < k) hi = mid;
        else if (cp > k) lo = mid + 1;
        else {
            int n = (int)cm_u_lower_map[mid][4];
            for (int i = 0; i < n; i++) out[i] = cm_u_lower_map[mid][1 + i];
            return n;
        }
    }
    out[0] = cp;
    return 1;
}

int cm_u_decompose(uint32_t cp, uint32_t out[18]) {
    if (cp >= 0xAC00 && cp <= 0xD7A3) {
        uint32_t s = cp - 0xAC00;
        out[0] = 0x1100 + s / (21 * 28);
        out[1] = 0x1161 + (s % (21 * 28)) / 28;
        if (s % 28) {
            out[2] = 0x11A7 + s % 28;
            return 3;
        }
        return 2;
    }
    if (cp >= 0xC0) {
        size_t lo = 0, hi = cm_u_decomp_n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            uint32_t k = cm_u_decomp_index[mid][0];
            if (cp < k) hi = mid;
            else if (cp > k) lo = mid + 1;
            else {
                int n = (int)cm_u_decomp_index[mid][2];
                if (n > 18) n = 18;
                memcpy(out, &cm_u_decomp_data[cm_u_decomp_index[mid][1]], (size_t)n * sizeof *out);
                return n;
            }
        }
    }
    out[0] = cp;
    return 1;
}

void cm_u_canonical_order(uint32_t *cps, size_t n) {
    /* insertion sort by ccc within runs of non-starters (stable) */
    for (size_t i = 1; i < n; i++) {
        uint8_t c = cm_u_ccc(cps[i]);
        if (!c) continue;
        size_t j = i;
        uint32_t v = cps[i];
        while (j > 0) {
            uint8_t p = cm_u_ccc(cps[j - 1]);
            if (p == 0 || p <= c) break;
            cps[j] = cps[j - 1];
            j--;
        }
        cps[j] = v;
    }
}
