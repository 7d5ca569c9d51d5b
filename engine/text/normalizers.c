/* normalizers.c: Prepend, Replace (String or Regex pattern), NFC, NFKC, NFKD and Nmt, and their
 * tokenizer.json constructors (see normalizer.h). */
#include <stdlib.h>
#include <string.h>

#include "cmteb/array.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/text/normalizer.h"
#include "engine/text/regex.h"
#include "engine/text/unicode.h"

/* ---- Prepend ---------------------------------------------------------------- */
typedef struct prepend_norm { cm_tok_normalizer base; char *text; } prepend_norm;

static int prepend_normalize(const cm_tok_normalizer *self, cm_tok_nstr *s) {
    const prepend_norm *p = (const prepend_norm *)self;
    if (s->len == 0) return CM_OK;      /* HF: nothing is prepended to an empty string */
    cm_tok_nstr o = {0};
    int rc = cm_tok_nstr_append(&o, p->text, strlen(p->text), s->align[0]);
    for (size_t i = 0; i < s->len && rc == CM_OK; i++) rc = cm_tok_nstr_append(&o, s->s + i, 1, s->align[i]);
    if (rc == CM_OK) cm_tok_nstr_swap(&o, s);
    cm_tok_nstr_free(&o);
    return rc;
}
static void prepend_free(cm_tok_normalizer *self) {
    if (!self) return;
    free(((prepend_norm *)self)->text);
    free(self);
}

/* ---- Replace ---------------------------------------------------------------- */
typedef struct replace_norm { cm_tok_normalizer base; char *pattern; cm_bpe_regex *re; char *content; } replace_norm;

/* Byte ranges of the non-overlapping matches of the pattern in s, left to right. */
static int find_all(const replace_norm *r, const cm_tok_nstr *s, size_t **ranges, size_t *nr) {
    size_t cap = 0, n = 0;
    size_t *v = NULL;
    *ranges = NULL;
    *nr = 0;
    if (!r->re) {
        size_t pl = strlen(r->pattern);
        if (pl == 0) return CM_OK;
        for (size_t i = 0; i + pl <= s->len;) {
            if (memcmp(s->s + i, r->pattern, pl) == 0) {
                if (cm_array_reserve(v, cap, cm_array_first(n + 2, 16))) { free(v); return CM_ERR_NOMEM; }
                v[n++] = i; v[n++] = i + pl;
                i += pl;
            } else {
                i++;
            }
        }
        *ranges = v; *nr = n / 2;
        return CM_OK;
    }
    /* regex: work on code points, keep each one's byte offset */
    uint32_t *cps = cm_malloc((s->len + 1) * sizeof *cps);
    size_t *boff = cm_malloc((s->len + 1) * sizeof *boff);
    if (!cps || !boff) { free(cps); free(boff); return CM_ERR_NOMEM; }
    size_t nc = 0;
    for (size_t i = 0; i < s->len;) {
        uint32_t cp;
        size_t l = cm_utf8_decode(s->s + i, s->len - i, &cp);
        cps[nc] = cp == 0xFFFFFFFFu ? 0xFFFD : cp;
        boff[nc++] = i;
        i += l;
    }
    boff[nc] = s->len;
    size_t from = 0, ms, me;
    int rc = CM_OK;
    while (from < nc && cm_bpe_regex_find(r->re, cps, nc, from, &ms, &me)) {
        if ((rc = cm_array_reserve(v, cap, cm_array_first(n + 2, 16))) != CM_OK) break;
        v[n++] = boff[ms]; v[n++] = boff[me];
        from = me;
    }
    free(cps);
    free(boff);
    if (rc != CM_OK) { free(v); return rc; }
    *ranges = v; *nr = n / 2;
    return CM_OK;
}

static int replace_normalize(const cm_tok_normalizer *self, cm_tok_nstr *s) {
    const replace_norm *r = (const replace_norm *)self;
    size_t *rg, nr;
    CM_TRY(find_all(r, s, &rg, &nr));
    if (nr == 0) return CM_OK;
    cm_tok_nstr o = {0};
    size_t cl = strlen(r->content), at = 0;
    int rc = CM_OK;
    for (size_t k = 0; k < nr && rc == CM_OK; k++) {
        for (; at < rg[2 * k] && rc == CM_OK; at++) rc = cm_tok_nstr_append(&o, s->s + at, 1, s->align[at]);
        cm_tok_span sp = {s->align[rg[2 * k]].start, s->align[rg[2 * k + 1] - 1].end};
        if (rc == CM_OK && cl) rc = cm_tok_nstr_append(&o, r->content, cl, sp);
        at = rg[2 * k + 1];
    }
    for (; at < s->len && rc == CM_OK; at++) rc = cm_tok_nstr_append(&o, s->s + at, 1, s->align[at]);
    if (rc == CM_OK) cm_tok_nstr_swap(&o, s);
    cm_tok_nstr_free(&o);
    free(rg);
    return rc;
}
static void replace_free(cm_tok_normalizer *self) {
    if (!self) return;
    replace_norm *r = (replace_norm *)self;
    free(r->pattern);
    free(r->content);
    cm_bpe_regex_free(r->re);
    free(r);
}

/* ---- NFC, NFKC, NFKD ---------------------------------------------------------- */
typedef struct form_norm { cm_tok_normalizer base; int (*form)(const cm_tok_nstr *, cm_tok_nstr *); } form_norm;

static int form_normalize(const cm_tok_normalizer *self, cm_tok_nstr *s) {
    cm_tok_nstr o = {0};
    int rc = ((const form_norm *)self)->form(s, &o);
    if (rc == CM_OK) cm_tok_nstr_swap(&o, s);
    cm_tok_nstr_free(&o);
    return rc;
}
static void plain_free(cm_tok_normalizer *self) { free(self); }

/* ---- Nmt: SentencePiece's NMT cleaning (HF normalizers/unicode.rs do_nmt) ------------------------------ */
static int nmt_drop(uint32_t c) {
    return (c >= 0x01 && c <= 0x08) || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F || c == 0x8F || c == 0x9F;
}
static int nmt_space(uint32_t c) {
    return c == 0x09 || c == 0x0A || c == 0x0C || c == 0x0D || c == 0x1680 || (c >= 0x200B && c <= 0x200F) ||
           c == 0x2028 || c == 0x2029 || c == 0x2581 || c == 0xFEFF || c == 0xFFFD;
}

static int nmt_normalize(const cm_tok_normalizer *self, cm_tok_nstr *s) {
    (void)self;
    cm_tok_nstr o = {0};
    int rc = CM_OK;
    for (size_t i = 0; i < s->len && rc == CM_OK;) {
        uint32_t cp;
        size_t l = cm_utf8_decode(s->s + i, s->len - i, &cp);
        cm_tok_span sp = {s->align[i].start, s->align[i + l - 1].end};
        if (cp != 0xFFFFFFFFu && nmt_space(cp)) rc = cm_tok_nstr_append(&o, " ", 1, sp);
        else if (cp == 0xFFFFFFFFu || !nmt_drop(cp))
            for (size_t k = i; k < i + l && rc == CM_OK; k++) rc = cm_tok_nstr_append(&o, s->s + k, 1, s->align[k]);
        i += l;
    }
    if (rc == CM_OK) cm_tok_nstr_swap(&o, s);
    cm_tok_nstr_free(&o);
    return rc;
}

int cm_tok_norm_nmt_json(cm_tok_normalizer **out, const cJSON *j, const char *path) {
    (void)j, (void)path;
    *out = NULL;
    cm_tok_normalizer *n = cm_calloc(1, sizeof *n);
    if (!n) return CM_ERR_NOMEM;
    n->normalize = nmt_normalize;
    n->free = plain_free;
    *out = n;
    return CM_OK;
}

/* ---- JSON ------------------------------------------------------------------- */
static const char *jstr(const cJSON *j, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* {"String": "x"} or {"Regex": "..."}: *is_regex tells which. */
int cm_bpe_json_pattern(const cJSON *j, const char *path, const char *owner, const char **pat, int *is_regex) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "pattern");
    const char *s;
    if (cJSON_IsObject(p) && (s = jstr(p, "String"))) { *pat = s; *is_regex = 0; return CM_OK; }
    if (cJSON_IsObject(p) && (s = jstr(p, "Regex"))) { *pat = s; *is_regex = 1; return CM_OK; }
    return cm_error(CM_ERR_FORMAT, "%s: %s: field 'pattern': expected {\"String\": ...} or {\"Regex\": ...}", path,
                    owner);
}

int cm_tok_norm_prepend_json(cm_tok_normalizer **out, const cJSON *j, const char *path) {
    *out = NULL;
    const char *t = jstr(j, "prepend");
    if (!t) return cm_error(CM_ERR_FORMAT, "%s: normalizer Prepend: field 'prepend': expected a string", path);
    prepend_norm *p = cm_calloc(1, sizeof *p);
    if (!p || !(p->text = cm_strdup(t))) { free(p); return CM_ERR_NOMEM; }
    p->base.normalize = prepend_normalize;
    p->base.free = prepend_free;
    *out = &p->base;
    return CM_OK;
}

int cm_tok_norm_replace_json(cm_tok_normalizer **out, const cJSON *j, const char *path) {
    *out = NULL;
    const char *pat, *content = jstr(j, "content");
    int is_re = 0;
    CM_TRY(cm_bpe_json_pattern(j, path, "normalizer Replace", &pat, &is_re));
    if (!content) return cm_error(CM_ERR_FORMAT, "%s: normalizer Replace: field 'content': expected a string", path);
    replace_norm *r = cm_calloc(1, sizeof *r);
    if (!r) return CM_ERR_NOMEM;
    r->base.normalize = replace_normalize;
    r->base.free = replace_free;
    r->pattern = cm_strdup(pat);
    r->content = cm_strdup(content);
    if (!r->pattern || !r->content) { replace_free(&r->base); return CM_ERR_NOMEM; }
    if (is_re) {
        int rc = cm_bpe_regex_compile(pat, &r->re);
        if (rc != CM_OK) { replace_free(&r->base); return cm_error_wrap(rc, "%s: normalizer Replace", path); }
    }
    *out = &r->base;
    return CM_OK;
}

static int form_new(cm_tok_normalizer **out, int (*form)(const cm_tok_nstr *, cm_tok_nstr *)) {
    *out = NULL;
    form_norm *n = cm_calloc(1, sizeof *n);
    if (!n) return CM_ERR_NOMEM;
    n->base.normalize = form_normalize;
    n->base.free = plain_free;
    n->form = form;
    *out = &n->base;
    return CM_OK;
}

int cm_tok_norm_nfc_json(cm_tok_normalizer **out, const cJSON *j, const char *path) {
    (void)j, (void)path;
    return form_new(out, cm_bpe_nfc);
}

int cm_tok_norm_nfkc_json(cm_tok_normalizer **out, const cJSON *j, const char *path) {
    (void)j, (void)path;
    return form_new(out, cm_bpe_nfkc);
}

int cm_tok_norm_nfkd_json(cm_tok_normalizer **out, const cJSON *j, const char *path) {
    (void)j, (void)path;
    return form_new(out, cm_bpe_nfkd);
}
