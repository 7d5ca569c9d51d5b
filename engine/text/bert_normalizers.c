/*
 * bert_normalizers.c: the BERT-family normalizers of normalizer.h, following
 * huggingface/tokenizers semantics: BertNormalizer (clean_text,
 * handle_chinese_chars, strip_accents (null = follow lowercase), lowercase),
 * Lowercase, NFD, StripAccents, Strip, and the Sequence wrapper.
 */
#include "engine/text/normalizer.h"

#include "cmteb/array.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/text/unicode.h"

#include <stdlib.h>
#include <string.h>

/* ---- shared: walk a string character by character --------------------- */

/* Decodes the char at s->s[i]; invalid bytes read as U+FFFD. Sets *span to
 * the original range of the char's bytes. Returns the byte length. */
static size_t char_at(const cm_tok_nstr *s, size_t i, uint32_t *cp, cm_tok_span *span) {
    size_t l = cm_utf8_decode(s->s + i, s->len - i, cp);
    if (*cp == 0xFFFFFFFFu) *cp = 0xFFFD;
    span->start = s->align[i].start;
    span->end = s->align[i + l - 1].end;
    if (span->end < span->start) span->end = span->start;
    return l;
}

static int put_cp(cm_tok_nstr *o, uint32_t cp, cm_tok_span span) {
    char buf[4];
    size_t n = cm_utf8_encode(cp, buf);
    return cm_tok_nstr_append(o, buf, n, span);
}

/* Code points with spans: the working form for NFD. */
typedef struct cpbuf {
    uint32_t    *cp;
    cm_tok_span *sp;
    size_t       n, cap;
} cpbuf;

static int cp_push(cpbuf *b, uint32_t cp, cm_tok_span sp) {
    if (b->n == b->cap) CM_TRY(cm_array_reserve2(b->cp, b->sp, b->cap, cm_array_first(b->n + 1, 64)));
    b->cp[b->n] = cp;
    b->sp[b->n] = sp;
    b->n++;
    return CM_OK;
}

static void cp_free(cpbuf *b) {
    free(b->cp);
    free(b->sp);
}

/* NFD of the whole string (decompose + canonical ordering across chars). */
static int nfd(cm_tok_nstr *s, int drop_mn) {
    cpbuf b = {0};
    int rc = CM_OK;
    for (size_t i = 0; i < s->len && rc == CM_OK;) {
        uint32_t cp, d[18];
        cm_tok_span sp;
        i += char_at(s, i, &cp, &sp);
        int n = cm_u_decompose(cp, d);
        for (int k = 0; k < n && rc == CM_OK; k++) rc = cp_push(&b, d[k], sp);
    }
    if (rc == CM_OK) {
        /* canonical ordering, moving spans along */
        for (size_t i = 1; i < b.n; i++) {
            uint8_t c = cm_u_ccc(b.cp[i]);
            if (!c) continue;
            uint32_t v = b.cp[i];
            cm_tok_span vs = b.sp[i];
            size_t j = i;
            while (j > 0) {
                uint8_t p = cm_u_ccc(b.cp[j - 1]);
                if (p == 0 || p <= c) break;
                b.cp[j] = b.cp[j - 1];
                b.sp[j] = b.sp[j - 1];
                j--;
            }
            b.cp[j] = v;
            b.sp[j] = vs;
        }
        cm_tok_nstr o = {0};
        for (size_t i = 0; i < b.n && rc == CM_OK; i++) {
            if (drop_mn && cm_u_is_mark_nonspacing(b.cp[i])) continue;
            rc = put_cp(&o, b.cp[i], b.sp[i]);
        }
        if (rc == CM_OK && !o.s) rc = cm_tok_nstr_append(&o, "", 0, (cm_tok_span){0, 0});
        if (rc == CM_OK) cm_tok_nstr_swap(s, &o);
        cm_tok_nstr_free(&o);
    }
    cp_free(&b);
    return rc;
}

static int lowercase(cm_tok_nstr *s) {
    /* ASCII-only fast path in place */
    int ascii = 1;
    for (size_t i = 0; i < s->len && ascii; i++)
        if ((unsigned char)s->s[i] >= 0x80) ascii = 0;
    if (ascii) {
        for (size_t i = 0; i < s->len; i++)
            if (s->s[i] >= 'A' && s->s[i] <= 'Z') s->s[i] = (char)(s->s[i] + 32);
        return CM_OK;
    }
    cm_tok_nstr o = {0};
    int rc = cm_tok_nstr_append(&o, "", 0, (cm_tok_span){0, 0});
    for (size_t i = 0; i < s->len && rc == CM_OK;) {
        uint32_t cp, lo[3];
        cm_tok_span sp;
        i += char_at(s, i, &cp, &sp);
        int n = cm_u_lower(cp, lo);
        for (int k = 0; k < n && rc == CM_OK; k++) rc = put_cp(&o, lo[k], sp);
    }
    if (rc == CM_OK) cm_tok_nstr_swap(s, &o);
    cm_tok_nstr_free(&o);
    return rc;
}

/* ---- BertNormalizer ---------------------------------------------------- */

typedef struct bert_norm {
    cm_tok_normalizer     base;
    cm_tok_bert_norm_opts o;
} bert_norm;

static int is_bert_control(uint32_t cp) {
    if (cp == '\t' || cp == '\n' || cp == '\r') return 0;
    /* Cc, Cf, Co, Cs; unassigned code points (Cn) are kept, as HF does
     * (measured: U+0378, U+2FFFE, U+10FFFF come out as [UNK]). */
    cm_ucat c = cm_u_category(cp);
    return c == CM_UCAT_Cc || c == CM_UCAT_Cf || c == CM_UCAT_Co || c == CM_UCAT_Cs;
}

static int is_bert_whitespace(uint32_t cp) {
    return cp == '\t' || cp == '\n' || cp == '\r' || cm_u_is_whitespace(cp);
}

static int is_chinese_char(uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
           (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) ||
           (cp >= 0x2B920 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

static int bert_norm_apply(const cm_tok_normalizer *self, cm_tok_nstr *s) {
    const bert_norm *b = (const bert_norm *)self;
    if (b->o.clean_text || b->o.handle_chinese_chars) {
        cm_tok_nstr o = {0};
        int rc = cm_tok_nstr_append(&o, "", 0, (cm_tok_span){0, 0});
        for (size_t i = 0; i < s->len && rc == CM_OK;) {
            uint32_t cp;
            cm_tok_span sp;
            size_t l = char_at(s, i, &cp, &sp);
            int invalid = (cp == 0xFFFD && !(l == 3 && (unsigned char)s->s[i] == 0xEF));
            if (b->o.clean_text) {
                if (cp == 0 || cp == 0xFFFD || invalid || is_bert_control(cp)) {
                    i += l;
                    continue;
                }
                if (is_bert_whitespace(cp)) {
                    rc = cm_tok_nstr_append(&o, " ", 1, sp);
                    i += l;
                    continue;
                }
            }
            if (b->o.handle_chinese_chars && is_chinese_char(cp)) {
                rc = cm_tok_nstr_append(&o, " ", 1, sp);
                if (rc == CM_OK) rc = cm_tok_nstr_append(&o, s->s + i, l, sp);
                if (rc == CM_OK) rc = cm_tok_nstr_append(&o, " ", 1, sp);
            } else if (invalid) {
                rc = put_cp(&o, 0xFFFD, sp);
            } else {
                rc = cm_tok_nstr_append(&o, s->s + i, l, sp);
            }
            i += l;
        }
        if (rc == CM_OK) cm_tok_nstr_swap(s, &o);
        cm_tok_nstr_free(&o);
        CM_TRY(rc);
    }
    int strip = b->o.strip_accents < 0 ? b->o.lowercase : b->o.strip_accents;
    if (strip) CM_TRY(nfd(s, 1));
    if (b->o.lowercase) CM_TRY(lowercase(s));
    return CM_OK;
}

static void free_simple(cm_tok_normalizer *self) { free(self); }

int cm_tok_bert_normalizer_new(cm_tok_normalizer **out, cm_tok_bert_norm_opts o) {
    bert_norm *b = cm_calloc(1, sizeof *b);
    if (!b) return CM_ERR_NOMEM;
    b->base.normalize = bert_norm_apply;
    b->base.free = free_simple;
    b->o = o;
    *out = &b->base;
    return CM_OK;
}

/* ---- simple normalizers ------------------------------------------------ */

typedef struct simple_norm {
    cm_tok_normalizer base;
    int kind;            /* 0 lowercase, 1 NFD, 2 strip accents, 3 strip */
    int left, right;
} simple_norm;

static int simple_norm_apply(const cm_tok_normalizer *self, cm_tok_nstr *s) {
    const simple_norm *n = (const simple_norm *)self;
    switch (n->kind) {
    case 0: return lowercase(s);
    case 1: return nfd(s, 0);
    case 2: {
        /* StripAccents: drop Mn chars (expects NFD input) */
        cm_tok_nstr o = {0};
        int rc = cm_tok_nstr_append(&o, "", 0, (cm_tok_span){0, 0});
        for (size_t i = 0; i < s->len && rc == CM_OK;) {
            uint32_t cp;
            cm_tok_span sp;
            size_t l = char_at(s, i, &cp, &sp);
            if (!cm_u_is_mark_nonspacing(cp)) rc = cm_tok_nstr_append(&o, s->s + i, l, sp);
            i += l;
        }
        if (rc == CM_OK) cm_tok_nstr_swap(s, &o);
        cm_tok_nstr_free(&o);
        return rc;
    }
    default: {
        size_t a = 0, e = s->len;
        while (n->left && a < e) {
            uint32_t cp;
            cm_tok_span sp;
            size_t l = char_at(s, a, &cp, &sp);
            if (!cm_u_is_whitespace(cp)) break;
            a += l;
        }
        while (n->right && e > a) {
            size_t b = e - 1;
            while (b > a && ((unsigned char)s->s[b] & 0xC0) == 0x80) b--;
            uint32_t cp;
            cm_tok_span sp;
            char_at(s, b, &cp, &sp);
            if (!cm_u_is_whitespace(cp)) break;
            e = b;
        }
        if (e > a) {   /* (s->s is NULL for an empty string that was never allocated) */
            memmove(s->s, s->s + a, e - a);
            memmove(s->align, s->align + a, (e - a) * sizeof *s->align);
        }
        s->len = e - a;
        if (s->s) s->s[s->len] = '\0';
        return CM_OK;
    }
    }
}

static int simple_norm_new(cm_tok_normalizer **out, int kind, int left, int right) {
    simple_norm *n = cm_calloc(1, sizeof *n);
    if (!n) return CM_ERR_NOMEM;
    n->base.normalize = simple_norm_apply;
    n->base.free = free_simple;
    n->kind = kind;
    n->left = left;
    n->right = right;
    *out = &n->base;
    return CM_OK;
}

/* ---- Sequence normalizer ----------------------------------------------- */

typedef struct seq_norm {
    cm_tok_normalizer   base;
    cm_tok_normalizer **items;
    size_t              n;
} seq_norm;

static int seq_norm_apply(const cm_tok_normalizer *self, cm_tok_nstr *s) {
    const seq_norm *q = (const seq_norm *)self;
    for (size_t i = 0; i < q->n; i++) CM_TRY(q->items[i]->normalize(q->items[i], s));
    return CM_OK;
}

static void seq_norm_free(cm_tok_normalizer *self) {
    seq_norm *q = (seq_norm *)self;
    for (size_t i = 0; i < q->n; i++)
        if (q->items[i]) q->items[i]->free(q->items[i]);
    free(q->items);
    free(q);
}

/* ---- JSON helpers ------------------------------------------------------ */

static int jbool(const cJSON *j, const char *k, int dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    return dflt;
}

int cm_tok_norm_bert_json(cm_tok_normalizer **out, const cJSON *j, const char *path) {
    (void)path;
    *out = NULL;
    cm_tok_bert_norm_opts o = {1, 1, -1, 1};
    o.clean_text = jbool(j, "clean_text", 1);
    o.handle_chinese_chars = jbool(j, "handle_chinese_chars", 1);
    o.lowercase = jbool(j, "lowercase", 1);
    const cJSON *sa = cJSON_GetObjectItemCaseSensitive(j, "strip_accents");
    o.strip_accents = cJSON_IsBool(sa) ? cJSON_IsTrue(sa) : -1;
    return cm_tok_bert_normalizer_new(out, o);
}

int cm_tok_norm_lowercase_json(cm_tok_normalizer **out, const cJSON *j, const char *path) {
    (void)j, (void)path;
    *out = NULL;
    return simple_norm_new(out, 0, 0, 0);
}

int cm_tok_norm_nfd_json(cm_tok_normalizer **out, const cJSON *j, const char *path) {
    (void)j, (void)path;
    *out = NULL;
    return simple_norm_new(out, 1, 0, 0);
}

int cm_tok_norm_strip_accents_json(cm_tok_normalizer **out, const cJSON *j, const char *path) {
    (void)j, (void)path;
    *out = NULL;
    return simple_norm_new(out, 2, 0, 0);
}

int cm_tok_norm_strip_json(cm_tok_normalizer **out, const cJSON *j, const char *path) {
    (void)path;
    *out = NULL;
    return simple_norm_new(out, 3, jbool(j, "strip_left", 1), jbool(j, "strip_right", 1));
}

int cm_tok_norm_sequence_new(cm_tok_normalizer **out, cm_tok_normalizer *const *items, size_t n) {
    *out = NULL;
    seq_norm *q = cm_calloc(1, sizeof *q);
    if (q) q->items = cm_calloc(n ? n : 1, sizeof *q->items);
    if (!q || !q->items) {
        for (size_t i = 0; i < n; i++)
            if (items[i]) items[i]->free(items[i]);
        free(q);
        return CM_ERR_NOMEM;
    }
    q->base.normalize = seq_norm_apply;
    q->base.free = seq_norm_free;
    for (size_t i = 0; i < n; i++) q->items[q->n++] = items[i];
    *out = &q->base;
    return CM_OK;
}
