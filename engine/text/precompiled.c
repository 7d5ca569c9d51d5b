/*
 * precompiled.c: the Precompiled normalizer of tokenizer.json (SentencePiece's precompiled_charsmap, as
 * XLM-R, T5 and other SentencePiece-Unigram conversions carry it), with huggingface/tokenizers semantics
 * (normalizers/precompiled.rs over the spm_precompiled crate).
 *
 * The charsmap (base64 in tokenizer.json) is: a little-endian u32 trie size in bytes, a darts-clone double
 * array of that many bytes (u32 units), then a blob of NUL-terminated replacement strings. HF walks the
 * text by extended grapheme clusters: a cluster shorter than 6 bytes is first looked up whole; otherwise,
 * or when that finds nothing, each character is looked up alone. A lookup takes the FIRST (shortest) key
 * of the trie that is a prefix of the chunk and replaces the whole chunk by its string (HF's behaviour,
 * not SentencePiece's longest match).
 *
 * Grapheme clusters follow UAX #29 with the Grapheme_Cluster_Break classes approximated from the general
 * category tables (unicode.h) plus the listed exceptions; only clusters under 6 bytes can change the
 * result, i.e. a base character with a combining mark, CR LF, and the like.
 */
#include <stdlib.h>
#include <string.h>

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/text/normalizer.h"
#include "engine/text/unicode.h"

typedef struct precompiled_norm {
    cm_tok_normalizer base;
    uint32_t *units;     /* (n_units) the double array */
    size_t    n_units;
    char     *blob;      /* (n_blob) replacement strings, NUL-terminated */
    size_t    n_blob;
} precompiled_norm;

/* ---- the double array (darts-clone unit layout) ----------------------------------------------------- */
static int      unit_has_leaf(uint32_t u) { return (u >> 8) & 1; }
static uint32_t unit_value(uint32_t u) { return u & ((1u << 31) - 1); }
static uint32_t unit_label(uint32_t u) { return u & ((1u << 31) | 0xFF); }
static uint32_t unit_offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }

/* The replacement of key[0..n) per HF: the blob string of the shortest trie key that is a prefix of
 * it; NULL when none is. *out_len is its length. */
static const char *transform(const precompiled_norm *p, const char *key, size_t n, size_t *out_len) {
    if (!p->n_units) return NULL;
    size_t pos = 0;
    uint32_t unit = p->units[0];
    pos ^= unit_offset(unit);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c == 0) break;
        pos ^= c;
        if (pos >= p->n_units) return NULL;
        unit = p->units[pos];
        if (unit_label(unit) != c) return NULL;
        pos ^= unit_offset(unit);
        if (pos >= p->n_units) return NULL;
        if (unit_has_leaf(unit)) {
            uint32_t v = unit_value(p->units[pos]);
            if (v >= p->n_blob) return NULL;
            const char *s = p->blob + v;
            const char *e = memchr(s, '\0', p->n_blob - v);
            *out_len = e ? (size_t)(e - s) : p->n_blob - v;
            return s;
        }
    }
    return NULL;
}

/* ---- grapheme clusters (UAX #29, classes approximated) ------------------------------------------------ */
enum { G_OTHER, G_CR, G_LF, G_CONTROL, G_EXTEND, G_ZWJ, G_RI, G_PREPEND, G_SPACING, G_L, G_V, G_T, G_LV, G_LVT,
       G_PICT };

static int in_list(uint32_t cp, const uint32_t (*r)[2], size_t n) {
    for (size_t i = 0; i < n; i++)
        if (cp >= r[i][0] && cp <= r[i][1]) return 1;
    return 0;
}

static int gcb(uint32_t cp) {
    static const uint32_t extend_x[][2] = {{0x200C, 0x200C}, {0xFF9E, 0xFF9F}, {0x1F3FB, 0x1F3FF},
        {0xE0020, 0xE007F}, {0x09BE, 0x09BE}, {0x09D7, 0x09D7}, {0x0B3E, 0x0B3E}, {0x0B57, 0x0B57},
        {0x0BBE, 0x0BBE}, {0x0BD7, 0x0BD7}, {0x0CC2, 0x0CC2}, {0x0CD5, 0x0CD6}, {0x0D3E, 0x0D3E},
        {0x0D57, 0x0D57}, {0x0DCF, 0x0DCF}, {0x0DDF, 0x0DDF}, {0x1B35, 0x1B35}, {0x302E, 0x302F},
        {0x1D165, 0x1D165}, {0x1D16E, 0x1D172}};
    static const uint32_t prepend[][2] = {{0x0600, 0x0605}, {0x06DD, 0x06DD}, {0x070F, 0x070F},
        {0x0890, 0x0891}, {0x08E2, 0x08E2}, {0x110BD, 0x110BD}, {0x110CD, 0x110CD}};
    static const uint32_t pict[][2] = {{0x00A9, 0x00A9}, {0x00AE, 0x00AE}, {0x203C, 0x203C}, {0x2049, 0x2049},
        {0x2122, 0x2122}, {0x2139, 0x2139}, {0x2194, 0x21AA}, {0x2300, 0x23FF}, {0x25AA, 0x25FE},
        {0x2600, 0x27BF}, {0x2934, 0x2935}, {0x2B05, 0x2B55}, {0x3030, 0x3030}, {0x303D, 0x303D},
        {0x3297, 0x3297}, {0x3299, 0x3299}, {0x1F000, 0x1F0FF}, {0x1F10D, 0x1F10F}, {0x1F12F, 0x1F12F},
        {0x1F16C, 0x1F171}, {0x1F17E, 0x1F17F}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F1AD, 0x1F1E5},
        {0x1F201, 0x1F20F}, {0x1F21A, 0x1F21A}, {0x1F22F, 0x1F22F}, {0x1F232, 0x1F23A}, {0x1F23C, 0x1F23F},
        {0x1F249, 0x1F3FA}, {0x1F400, 0x1F53D}, {0x1F546, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F774, 0x1F77F},
        {0x1F7D5, 0x1F7FF}, {0x1F80C, 0x1F80F}, {0x1F848, 0x1F84F}, {0x1F85A, 0x1F85F}, {0x1F888, 0x1F88F},
        {0x1F8AE, 0x1F8FF}, {0x1F90C, 0x1F93A}, {0x1F93C, 0x1F945}, {0x1F947, 0x1FAFF}, {0x1FC00, 0x1FFFD}};
    if (cp < 0x80) return cp == 0x0D ? G_CR : cp == 0x0A ? G_LF : cp < 0x20 || cp == 0x7F ? G_CONTROL : G_OTHER;
    if (cp == 0x200D) return G_ZWJ;
    if (in_list(cp, extend_x, sizeof extend_x / sizeof extend_x[0])) return G_EXTEND;
    if (in_list(cp, prepend, sizeof prepend / sizeof prepend[0])) return G_PREPEND;
    if (cp >= 0x1F1E6 && cp <= 0x1F1FF) return G_RI;
    if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0xA960 && cp <= 0xA97C)) return G_L;
    if ((cp >= 0x1160 && cp <= 0x11A7) || (cp >= 0xD7B0 && cp <= 0xD7C6)) return G_V;
    if ((cp >= 0x11A8 && cp <= 0x11FF) || (cp >= 0xD7CB && cp <= 0xD7FB)) return G_T;
    if (cp >= 0xAC00 && cp <= 0xD7A3) return (cp - 0xAC00) % 28 == 0 ? G_LV : G_LVT;
    if (cp == 0x0E33 || cp == 0x0EB3) return G_SPACING;
    if (in_list(cp, pict, sizeof pict / sizeof pict[0])) return G_PICT;
    switch (cm_u_category(cp)) {
    case CM_UCAT_Mn: case CM_UCAT_Me: return G_EXTEND;
    case CM_UCAT_Mc: return G_SPACING;
    case CM_UCAT_Cc: case CM_UCAT_Cf: case CM_UCAT_Zl: case CM_UCAT_Zp: return G_CONTROL;
    default: return G_OTHER;
    }
}

/* State carried across a cluster for GB11 (emoji ZWJ sequences) and GB12/13 (regional indicator pairs). */
typedef struct gstate { int prev; int pict_run; int ri_count; } gstate;

/* Whether there is a cluster boundary between the previous character (in st) and one of class c. */
static int is_break(const gstate *st, int c) {
    int p = st->prev;
    if (p == G_CR && c == G_LF) return 0;                                           /* GB3 */
    if (p == G_CR || p == G_LF || p == G_CONTROL) return 1;                         /* GB4 */
    if (c == G_CR || c == G_LF || c == G_CONTROL) return 1;                         /* GB5 */
    if (p == G_L && (c == G_L || c == G_V || c == G_LV || c == G_LVT)) return 0;    /* GB6 */
    if ((p == G_LV || p == G_V) && (c == G_V || c == G_T)) return 0;                /* GB7 */
    if ((p == G_LVT || p == G_T) && c == G_T) return 0;                             /* GB8 */
    if (c == G_EXTEND || c == G_ZWJ || c == G_SPACING) return 0;                    /* GB9, GB9a */
    if (p == G_PREPEND) return 0;                                                   /* GB9b */
    if (p == G_ZWJ && c == G_PICT && st->pict_run) return 0;                        /* GB11 */
    if (p == G_RI && c == G_RI && st->ri_count % 2 == 1) return 0;                  /* GB12, GB13 */
    return 1;
}

static void gstate_push(gstate *st, int c) {
    if (c == G_PICT) st->pict_run = 1;
    else if (!(c == G_EXTEND || (c == G_ZWJ && st->pict_run))) st->pict_run = 0;
    st->ri_count = c == G_RI ? st->ri_count + 1 : 0;
    st->prev = c;
}

/* ---- the normalizer ----------------------------------------------------------------------------------- */
static cm_tok_span span_of(const cm_tok_nstr *s, size_t a, size_t b) {
    cm_tok_span sp = {s->align[a].start, s->align[b - 1].end};
    return sp;
}

/* Appends the normalization of the cluster s[a..b) to o. */
static int do_cluster(const precompiled_norm *p, const cm_tok_nstr *s, size_t a, size_t b, cm_tok_nstr *o) {
    size_t rl;
    const char *r;
    if (b - a < 6 && (r = transform(p, s->s + a, b - a, &rl)) != NULL)
        return rl ? cm_tok_nstr_append(o, r, rl, span_of(s, a, b)) : CM_OK;
    for (size_t i = a; i < b;) {
        uint32_t cp;
        size_t l = cm_utf8_decode(s->s + i, b - i, &cp);
        if (cp != 0xFFFFFFFFu && (r = transform(p, s->s + i, l, &rl)) != NULL) {
            if (rl) CM_TRY(cm_tok_nstr_append(o, r, rl, span_of(s, i, i + l)));
        } else {
            for (size_t k = i; k < i + l; k++) CM_TRY(cm_tok_nstr_append(o, s->s + k, 1, s->align[k]));
        }
        i += l;
    }
    return CM_OK;
}

static int precompiled_normalize(const cm_tok_normalizer *self, cm_tok_nstr *s) {
    const precompiled_norm *p = (const precompiled_norm *)self;
    if (!p->n_units || s->len == 0) return CM_OK;
    cm_tok_nstr o = {0};
    int rc = CM_OK;
    gstate st = {G_CONTROL, 0, 0};
    size_t start = 0;
    for (size_t i = 0; i < s->len && rc == CM_OK;) {
        uint32_t cp;
        size_t l = cm_utf8_decode(s->s + i, s->len - i, &cp);
        int c = cp == 0xFFFFFFFFu ? G_CONTROL : gcb(cp);
        if (i > 0 && is_break(&st, c)) {
            rc = do_cluster(p, s, start, i, &o);
            start = i;
        }
        gstate_push(&st, c);
        i += l;
    }
    if (rc == CM_OK) rc = do_cluster(p, s, start, s->len, &o);
    if (rc == CM_OK) cm_tok_nstr_swap(&o, s);
    cm_tok_nstr_free(&o);
    return rc;
}

static void precompiled_free(cm_tok_normalizer *self) {
    if (!self) return;
    precompiled_norm *p = (precompiled_norm *)self;
    free(p->units);
    free(p->blob);
    free(p);
}

/* Standard base64 (padding optional, no whitespace) of b64 into a new buffer *out of *n bytes. */
static int base64_decode(const char *b64, unsigned char **out, size_t *n) {
    size_t len = strlen(b64);
    unsigned char *buf = cm_malloc(len / 4 * 3 + 3);
    if (!buf) return CM_ERR_NOMEM;
    uint32_t acc = 0;
    int bits = 0;
    size_t k = 0, i;
    for (i = 0; i < len && b64[i] != '='; i++) {
        char c = b64[i];
        int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26
              : c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : -1;
        if (v < 0) { free(buf); return CM_ERR_FORMAT; }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[k++] = (unsigned char)(acc >> bits);
        }
    }
    for (; i < len; i++)
        if (b64[i] != '=') { free(buf); return CM_ERR_FORMAT; }
    *out = buf;
    *n = k;
    return CM_OK;
}

int cm_tok_norm_precompiled_json(cm_tok_normalizer **out, const cJSON *j, const char *path) {
    *out = NULL;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "precompiled_charsmap");
    if (!cJSON_IsString(m) && !cJSON_IsNull(m))
        return cm_error(CM_ERR_FORMAT, "%s: normalizer Precompiled: field 'precompiled_charsmap': expected a base64 "
                        "string", path);
    precompiled_norm *p = cm_calloc(1, sizeof *p);
    if (!p) return CM_ERR_NOMEM;
    p->base.normalize = precompiled_normalize;
    p->base.free = precompiled_free;
    unsigned char *bytes = NULL;
    size_t nb = 0;
    int rc = cJSON_IsString(m) ? base64_decode(m->valuestring, &bytes, &nb) : CM_OK;
    if (rc == CM_ERR_FORMAT)
        rc = cm_error(rc, "%s: normalizer Precompiled: field 'precompiled_charsmap': not valid base64", path);
    if (rc == CM_OK && nb > 0) {   /* an empty charsmap is SentencePiece's identity normalization */
        uint32_t tsize = nb >= 4 ? (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 |
                                   (uint32_t)bytes[3] << 24 : 0;
        if (nb < 4 || tsize % 4 != 0 || tsize == 0 || tsize > nb - 4)
            rc = cm_error(CM_ERR_FORMAT, "%s: normalizer Precompiled: field 'precompiled_charsmap': %zu bytes, trie "
                          "size %u: expected a 4-byte size, a trie of that many bytes (a multiple of 4) and a blob",
                          path, nb, tsize);
        if (rc == CM_OK) {
            p->n_units = tsize / 4;
            p->n_blob = nb - 4 - tsize;
            p->units = cm_malloc(p->n_units * sizeof *p->units);
            p->blob = cm_malloc(p->n_blob + 1);
            if (!p->units || !p->blob) rc = CM_ERR_NOMEM;
        }
        if (rc == CM_OK) {
            for (size_t i = 0; i < p->n_units; i++) {
                const unsigned char *b = bytes + 4 + 4 * i;
                p->units[i] = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
            }
            memcpy(p->blob, bytes + 4 + tsize, p->n_blob);
            p->blob[p->n_blob] = '\0';
        }
    }
    free(bytes);
    if (rc != CM_OK) { precompiled_free(&p->base); return rc; }
    *out = &p->base;
    return CM_OK;
}
