/* nfc.c: NFC, NFKC and NFKD (canonical decomposition from unicode.c, or compatibility decomposition from
 * nfkc_tables.c; canonical ordering; canonical composition with the generated pair table of nfc_tables.c and
 * the Hangul algorithm) over a cm_tok_nstr, keeping byte alignment (see normalizer.h). */
#include "engine/text/normalizer.h"

#include <stdlib.h>

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/text/unicode.h"

extern const uint32_t cm_bpe_comp_tab[][3];
extern const size_t cm_bpe_comp_n;
extern const uint32_t cm_u_compat_tab[][3];
extern const size_t cm_u_compat_n;
extern const uint32_t cm_u_compat_pool[];

/* Full compatibility decomposition of cp (NFKD of one code point): up to 18 code points. */
static int decompose_compat(uint32_t cp, uint32_t out[18]) {
    size_t lo = 0, hi = cm_u_compat_n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cm_u_compat_tab[mid][0] < cp) lo = mid + 1;
        else hi = mid;
    }
    if (lo < cm_u_compat_n && cm_u_compat_tab[lo][0] == cp) {
        uint32_t n = cm_u_compat_tab[lo][2];
        for (uint32_t k = 0; k < n; k++) out[k] = cm_u_compat_pool[cm_u_compat_tab[lo][1] + k];
        return (int)n;
    }
    return cm_u_decompose(cp, out);
}

enum { SBASE = 0xAC00, LBASE = 0x1100, VBASE = 0x1161, TBASE = 0x11A7, LCOUNT = 19, VCOUNT = 21, TCOUNT = 28,
       NCOUNT = VCOUNT * TCOUNT, SCOUNT = LCOUNT * NCOUNT };

static uint32_t compose(uint32_t a, uint32_t b) {
    if (a >= LBASE && a < LBASE + LCOUNT && b >= VBASE && b < VBASE + VCOUNT)
        return SBASE + ((a - LBASE) * VCOUNT + (b - VBASE)) * TCOUNT;
    if (a >= SBASE && a < SBASE + SCOUNT && (a - SBASE) % TCOUNT == 0 && b > TBASE && b < TBASE + TCOUNT)
        return a + (b - TBASE);
    size_t lo = 0, hi = cm_bpe_comp_n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const uint32_t *e = cm_bpe_comp_tab[mid];
        if (a < e[0] || (a == e[0] && b < e[1])) hi = mid;
        else if (a > e[0] || (a == e[0] && b > e[1])) lo = mid + 1;
        else return e[2];
    }
    return 0;
}

typedef struct ucp { uint32_t cp; cm_tok_span span; } ucp;

/* One of NFC (compat 0, compose 1), NFKC (1, 1), NFKD (1, 0) of in into out. */
static int norm_form(const cm_tok_nstr *in, cm_tok_nstr *out, int compat, int compose_too) {
    cm_tok_nstr_clear(out);
    size_t i = 0;
    while (i < in->len && (unsigned char)in->s[i] < 0xC0) i++;   /* ASCII (or stray bytes): already NFC */
    if (i == in->len) {
        for (size_t k = 0; k < in->len; k++) CM_TRY(cm_tok_nstr_append(out, in->s + k, 1, in->align[k]));
        return CM_OK;
    }
    ucp *v = cm_malloc((in->len * 18 + 1) * sizeof *v);
    if (!v) return CM_ERR_NOMEM;
    size_t n = 0;
    for (i = 0; i < in->len;) {
        uint32_t cp;
        size_t l = cm_utf8_decode(in->s + i, in->len - i, &cp);
        cm_tok_span sp = {in->align[i].start, in->align[i + l - 1].end};
        if (cp == 0xFFFFFFFFu) {           /* invalid byte: kept as is (marked with the byte value + 1<<31) */
            v[n].cp = 0x80000000u | (unsigned char)in->s[i];
            v[n++].span = sp;
        } else {
            uint32_t d[18];
            int nd = compat ? decompose_compat(cp, d) : cm_u_decompose(cp, d);
            for (int k = 0; k < nd; k++) { v[n].cp = d[k]; v[n++].span = sp; }
        }
        i += l;
    }
    /* canonical ordering (stable) within runs of non-starters, spans move along */
    for (size_t k = 1; k < n; k++) {
        uint8_t cc = v[k].cp & 0x80000000u ? 0 : cm_u_ccc(v[k].cp);
        if (!cc) continue;
        ucp x = v[k];
        size_t j = k;
        while (j > 0) {
            uint8_t pc = v[j - 1].cp & 0x80000000u ? 0 : cm_u_ccc(v[j - 1].cp);
            if (pc == 0 || pc <= cc) break;
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
    /* composition */
    size_t on = 0;
    long starter = -1;
    for (size_t k = 0; k < n && !compose_too; k++) v[on++] = v[k];
    for (size_t k = 0; k < n && compose_too; k++) {
        ucp c = v[k];
        int bad = (c.cp & 0x80000000u) != 0;
        int cc = bad ? 0 : cm_u_ccc(c.cp);
        if (starter >= 0 && !bad && !(v[starter].cp & 0x80000000u)) {
            int adjacent = (size_t)starter == on - 1;
            int last_cc = adjacent ? 0 : cm_u_ccc(v[on - 1].cp);
            if (adjacent || (last_cc != 0 && last_cc < cc)) {
                uint32_t comp = compose(v[starter].cp, c.cp);
                if (comp) {
                    v[starter].cp = comp;
                    if (c.span.start < v[starter].span.start) v[starter].span.start = c.span.start;
                    if (c.span.end > v[starter].span.end) v[starter].span.end = c.span.end;
                    continue;
                }
            }
        }
        if (cc == 0) starter = (long)on;
        v[on++] = c;
    }
    int rc = CM_OK;
    for (size_t k = 0; k < on && rc == CM_OK; k++) {
        char buf[4];
        if (v[k].cp & 0x80000000u) {
            buf[0] = (char)(v[k].cp & 0xFF);
            rc = cm_tok_nstr_append(out, buf, 1, v[k].span);
        } else {
            size_t l = cm_utf8_encode(v[k].cp, buf);
            rc = cm_tok_nstr_append(out, buf, l, v[k].span);
        }
    }
    free(v);
    return rc;
}

int cm_bpe_nfc(const cm_tok_nstr *in, cm_tok_nstr *out) { return norm_form(in, out, 0, 1); }
int cm_bpe_nfkc(const cm_tok_nstr *in, cm_tok_nstr *out) { return norm_form(in, out, 1, 1); }
int cm_bpe_nfkd(const cm_tok_nstr *in, cm_tok_nstr *out) { return norm_form(in, out, 1, 0); }
