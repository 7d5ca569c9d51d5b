/* bpe_pretok.c: the pre-tokenizers BPE tokenizers use (Metaspace, ByteLevel, Split, Digits) and their
 * tokenizer.json constructors (see tokenizer.h, bpe.h). Splitting follows HF's
 * SplitDelimiterBehavior (Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous). */
#include <stdlib.h>
#include <string.h>

#include "cmteb/array.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/tokenizer/bpe.h"
#include "engine/text/regex.h"
#include "engine/text/unicode.h"

/* The GPT-2 (GPT2 byte_encoder) pattern ByteLevel uses when use_regex is true. */
static const char GPT2_PATTERN[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

uint32_t cm_bpe_byte_char(uint8_t b) {
    if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE) return b;
    /* the other 68 bytes, in order, map to 256, 257, ... */
    uint32_t n = 0;
    for (unsigned x = 0; x < b; x++)
        if (!((x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE)) n++;
    return 256 + n;
}

/* Appends n bytes with their own alignment. */
static int append_al(cm_tok_nstr *s, const char *b, size_t n, const cm_tok_span *al) {
    for (size_t i = 0; i < n; i++) CM_TRY(cm_tok_nstr_append(s, b + i, 1, al[i]));
    return CM_OK;
}

/* ---- splitting helpers ---------------------------------------------------------- */
enum { B_REMOVED, B_ISOLATED, B_MERGED_PREV, B_MERGED_NEXT, B_CONTIGUOUS };

typedef struct seg { size_t a, b; int match; } seg;
typedef struct segs { seg *v; size_t n, cap; } segs;

static int seg_push(segs *s, size_t a, size_t b, int match) {
    return cm_array_push(s->v, s->n, s->cap, ((seg){a, b, match}));
}

/* Turns (range, is_match) segments covering a word into the pieces of behaviour beh (HF split()). */
static int apply_behavior(const segs *in, int beh, segs *out) {
    out->n = 0;
    int prev_match = 0;
    switch (beh) {
    case B_REMOVED:
        for (size_t i = 0; i < in->n; i++)
            if (!in->v[i].match) CM_TRY(seg_push(out, in->v[i].a, in->v[i].b, 0));
        return CM_OK;
    case B_ISOLATED:
        for (size_t i = 0; i < in->n; i++) CM_TRY(seg_push(out, in->v[i].a, in->v[i].b, 0));
        return CM_OK;
    case B_MERGED_PREV:
        for (size_t i = 0; i < in->n; i++) {
            if (in->v[i].match && !prev_match && out->n) out->v[out->n - 1].b = in->v[i].b;
            else CM_TRY(seg_push(out, in->v[i].a, in->v[i].b, 0));
            prev_match = in->v[i].match;
        }
        return CM_OK;
    case B_CONTIGUOUS:
        for (size_t i = 0; i < in->n; i++) {
            if (in->v[i].match == prev_match && out->n) out->v[out->n - 1].b = in->v[i].b;
            else CM_TRY(seg_push(out, in->v[i].a, in->v[i].b, 0));
            prev_match = in->v[i].match;
        }
        return CM_OK;
    default: /* B_MERGED_NEXT: the same from the right */
        for (size_t i = in->n; i-- > 0;) {
            if (in->v[i].match && !prev_match && out->n) out->v[out->n - 1].a = in->v[i].a;
            else CM_TRY(seg_push(out, in->v[i].a, in->v[i].b, 0));
            prev_match = in->v[i].match;
        }
        for (size_t i = 0; i < out->n / 2; i++) {
            seg t = out->v[i];
            out->v[i] = out->v[out->n - 1 - i];
            out->v[out->n - 1 - i] = t;
        }
        return CM_OK;
    }
}

/* Matches of a pattern in word w (bytes [0, len)): a literal string or a compiled regex. */
typedef struct matcher { const char *lit; size_t litlen; const cm_bpe_regex *re; int invert; } matcher;

static int find_segments(const matcher *m, const char *w, size_t len, segs *out) {
    out->n = 0;
    size_t prev = 0;
    if (m->re) {
        uint32_t *cps = cm_malloc((len + 1) * sizeof *cps);
        size_t *boff = cm_malloc((len + 1) * sizeof *boff);
        if (!cps || !boff) { free(cps); free(boff); return CM_ERR_NOMEM; }
        size_t nc = 0;
        for (size_t i = 0; i < len;) {
            uint32_t cp;
            size_t l = cm_utf8_decode(w + i, len - i, &cp);
            cps[nc] = cp == 0xFFFFFFFFu ? 0xFFFD : cp;
            boff[nc++] = i;
            i += l;
        }
        boff[nc] = len;
        size_t from = 0, ms, me;
        int rc = CM_OK;
        while (rc == CM_OK && from < nc && cm_bpe_regex_find(m->re, cps, nc, from, &ms, &me)) {
            if (boff[ms] > prev) rc = seg_push(out, prev, boff[ms], m->invert);
            if (rc == CM_OK) rc = seg_push(out, boff[ms], boff[me], !m->invert);
            prev = boff[me];
            from = me;
        }
        free(cps);
        free(boff);
        CM_TRY(rc);
    } else if (m->litlen) {
        for (size_t i = 0; i + m->litlen <= len;) {
            if (memcmp(w + i, m->lit, m->litlen) == 0) {
                if (i > prev) CM_TRY(seg_push(out, prev, i, m->invert));
                CM_TRY(seg_push(out, i, i + m->litlen, !m->invert));
                i += m->litlen;
                prev = i;
            } else {
                i++;
            }
        }
    }
    if (prev < len) CM_TRY(seg_push(out, prev, len, m->invert));
    return CM_OK;
}

/* Splits every word of in by matcher m with behaviour beh into out. */
static int split_words(const cm_tok_words *in, const matcher *m, int beh, cm_tok_words *out) {
    segs found = {0}, pieces = {0};
    int rc = CM_OK;
    for (size_t i = 0; i < in->n && rc == CM_OK; i++) {
        size_t o = in->off[i], len = in->off[i + 1] - o;
        if (len == 0) continue;
        rc = find_segments(m, in->s.s + o, len, &found);
        if (rc == CM_OK) rc = apply_behavior(&found, beh, &pieces);
        for (size_t k = 0; k < pieces.n && rc == CM_OK; k++) {
            seg p = pieces.v[k];
            if (p.b > p.a)
                rc = cm_tok_words_add(out, in->s.s + o + p.a, p.b - p.a, in->s.align + o + p.a, in->s.align[o + p.a]);
        }
    }
    free(found.v);
    free(pieces.v);
    return rc;
}

/* ---- Metaspace ---------------------------------------------------------------- */
enum { PREPEND_ALWAYS, PREPEND_FIRST, PREPEND_NEVER };
typedef struct metaspace { cm_tok_pretok base; char rep[8]; size_t replen; int scheme, split; } metaspace;

static int metaspace_split(const cm_tok_pretok *self, const cm_tok_words *in, cm_tok_words *out) {
    const metaspace *ms = (const metaspace *)self;
    cm_tok_words tmp = {0};
    cm_tok_nstr w = {0};
    int rc = CM_OK;
    for (size_t i = 0; i < in->n && rc == CM_OK; i++) {
        size_t o = in->off[i], len = in->off[i + 1] - o;
        if (len == 0) continue;
        cm_tok_nstr_clear(&w);
        for (size_t k = 0; k < len && rc == CM_OK; k++) {
            if (in->s.s[o + k] == ' ') rc = cm_tok_nstr_append(&w, ms->rep, ms->replen, in->s.align[o + k]);
            else rc = cm_tok_nstr_append(&w, in->s.s + o + k, 1, in->s.align[o + k]);
        }
        if (rc != CM_OK) break;
        int starts = w.len >= ms->replen && memcmp(w.s, ms->rep, ms->replen) == 0;
        int prepend = !starts && (ms->scheme == PREPEND_ALWAYS ||
                                  (ms->scheme == PREPEND_FIRST && in->s.align[o].start == 0));
        if (prepend) {
            cm_tok_nstr p = {0};
            rc = cm_tok_nstr_append(&p, ms->rep, ms->replen, w.align[0]);
            if (rc == CM_OK) rc = append_al(&p, w.s, w.len, w.align);
            if (rc == CM_OK) cm_tok_nstr_swap(&p, &w);
            cm_tok_nstr_free(&p);
        }
        if (rc == CM_OK) rc = cm_tok_words_add(ms->split ? &tmp : out, w.s, w.len, w.align, w.align[0]);
    }
    if (rc == CM_OK && ms->split) {
        matcher m = {ms->rep, ms->replen, NULL, 0};
        rc = split_words(&tmp, &m, B_MERGED_NEXT, out);
    }
    cm_tok_nstr_free(&w);
    cm_tok_words_free(&tmp);
    return rc;
}

/* ---- ByteLevel ---------------------------------------------------------------- */
typedef struct bytelevel {
    cm_tok_pretok base;
    int add_prefix_space;
    cm_bpe_regex *re;          /* GPT-2 pattern when use_regex */
    char map[256][3];          /* UTF-8 of each byte's stand-in character */
    uint8_t maplen[256];
} bytelevel;

static int bytelevel_split(const cm_tok_pretok *self, const cm_tok_words *in, cm_tok_words *out) {
    const bytelevel *bl = (const bytelevel *)self;
    cm_tok_words pre = {0}, split = {0};
    int rc = CM_OK;
    const cm_tok_words *cur = in;
    if (bl->add_prefix_space) {
        for (size_t i = 0; i < in->n && rc == CM_OK; i++) {
            size_t o = in->off[i], len = in->off[i + 1] - o;
            if (len == 0) continue;
            if (in->s.s[o] != ' ') {
                cm_tok_nstr p = {0};
                rc = cm_tok_nstr_append(&p, " ", 1, in->s.align[o]);
                if (rc == CM_OK) rc = append_al(&p, in->s.s + o, len, in->s.align + o);
                if (rc == CM_OK) rc = cm_tok_words_add(&pre, p.s, p.len, p.align, p.align[0]);
                cm_tok_nstr_free(&p);
            } else {
                rc = cm_tok_words_add(&pre, in->s.s + o, len, in->s.align + o, in->s.align[o]);
            }
        }
        cur = &pre;
    }
    if (rc == CM_OK && bl->re) {
        matcher m = {NULL, 0, bl->re, 0};
        rc = split_words(cur, &m, B_ISOLATED, &split);
        cur = &split;
    }
    cm_tok_nstr w = {0};
    for (size_t i = 0; i < cur->n && rc == CM_OK; i++) {
        size_t o = cur->off[i], len = cur->off[i + 1] - o;
        if (len == 0) continue;
        cm_tok_nstr_clear(&w);
        for (size_t k = 0; k < len && rc == CM_OK; k++) {
            uint8_t b = (uint8_t)cur->s.s[o + k];
            rc = cm_tok_nstr_append(&w, bl->map[b], bl->maplen[b], cur->s.align[o + k]);
        }
        if (rc == CM_OK) rc = cm_tok_words_add(out, w.s, w.len, w.align, w.align[0]);
    }
    cm_tok_nstr_free(&w);
    cm_tok_words_free(&pre);
    cm_tok_words_free(&split);
    return rc;
}

/* ---- Split / Digits ------------------------------------------------------------ */
typedef struct splitter { cm_tok_pretok base; matcher m; char *lit; cm_bpe_regex *re; int behavior; } splitter;

static int splitter_split(const cm_tok_pretok *self, const cm_tok_words *in, cm_tok_words *out) {
    const splitter *sp = (const splitter *)self;
    return split_words(in, &sp->m, sp->behavior, out);
}

static void pretok_free(cm_tok_pretok *self) {
    if (!self) return;
    if (self->split == bytelevel_split) cm_bpe_regex_free(((bytelevel *)self)->re);
    if (self->split == splitter_split) {
        cm_bpe_regex_free(((splitter *)self)->re);
        free(((splitter *)self)->lit);
    }
    free(self);
}

/* ---- JSON --------------------------------------------------------------------- */
static const char *jstr(const cJSON *j, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
/* Boolean field with a default; CM_ERR_FORMAT if present and not a bool. */
static int jbool(const cJSON *j, const char *key, int def, int *out, const char *path, const char *owner) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v || cJSON_IsNull(v)) { *out = def; return CM_OK; }
    if (!cJSON_IsBool(v))
        return cm_error(CM_ERR_FORMAT, "%s: %s: field '%s': expected true or false", path, owner, key);
    *out = cJSON_IsTrue(v);
    return CM_OK;
}

static int new_splitter(cm_tok_pretok **out, const char *lit, const char *regex, int behavior, int invert,
                        const char *path, const char *owner) {
    splitter *sp = cm_calloc(1, sizeof *sp);
    if (!sp) return CM_ERR_NOMEM;
    sp->base.split = splitter_split;
    sp->base.free = pretok_free;
    sp->behavior = behavior;
    sp->m.invert = invert;
    if (regex) {
        int rc = cm_bpe_regex_compile(regex, &sp->re);
        if (rc != CM_OK) { free(sp); return cm_error_wrap(rc, "%s: %s", path, owner); }
        sp->m.re = sp->re;
    } else {
        if (!(sp->lit = cm_strdup(lit))) { free(sp); return CM_ERR_NOMEM; }
        sp->m.lit = sp->lit;
        sp->m.litlen = strlen(lit);
    }
    *out = &sp->base;
    return CM_OK;
}

int cm_tok_pretok_metaspace_json(cm_tok_pretok **out, const cJSON *j, const char *path) {
    *out = NULL;
    const char *rep = jstr(j, "replacement");
    const char *scheme = jstr(j, "prepend_scheme");
    metaspace *ms = cm_calloc(1, sizeof *ms);
    if (!ms) return CM_ERR_NOMEM;
    ms->base.split = metaspace_split;
    ms->base.free = pretok_free;
    int rc = CM_OK, aps = 1;
    if (!rep) rep = "\xe2\x96\x81";
    ms->replen = strlen(rep);
    if (ms->replen == 0 || ms->replen >= sizeof ms->rep || cm_utf8_len((unsigned char)rep[0]) != ms->replen)
        rc = cm_error(CM_ERR_FORMAT, "%s: pre_tokenizer Metaspace: field 'replacement': expected one character", path);
    else memcpy(ms->rep, rep, ms->replen);
    if (rc == CM_OK) rc = jbool(j, "split", 1, &ms->split, path, "pre_tokenizer Metaspace");
    if (rc == CM_OK) rc = jbool(j, "add_prefix_space", 1, &aps, path, "pre_tokenizer Metaspace");
    if (rc == CM_OK) {
        if (!scheme) ms->scheme = aps ? PREPEND_ALWAYS : PREPEND_NEVER;   /* files before prepend_scheme */
        else if (strcmp(scheme, "always") == 0) ms->scheme = PREPEND_ALWAYS;
        else if (strcmp(scheme, "first") == 0) ms->scheme = PREPEND_FIRST;
        else if (strcmp(scheme, "never") == 0) ms->scheme = PREPEND_NEVER;
        else rc = cm_error(CM_ERR_FORMAT, "%s: pre_tokenizer Metaspace: field 'prepend_scheme': expected "
                           "\"always\", \"first\" or \"never\", got \"%s\"", path, scheme);
    }
    if (rc != CM_OK) { free(ms); return rc; }
    *out = &ms->base;
    return CM_OK;
}

int cm_tok_pretok_bytelevel_json(cm_tok_pretok **out, const cJSON *j, const char *path) {
    *out = NULL;
    bytelevel *bl = cm_calloc(1, sizeof *bl);
    if (!bl) return CM_ERR_NOMEM;
    bl->base.split = bytelevel_split;
    bl->base.free = pretok_free;
    int use_regex = 1, rc = jbool(j, "add_prefix_space", 1, &bl->add_prefix_space, path, "pre_tokenizer ByteLevel");
    if (rc == CM_OK) rc = jbool(j, "use_regex", 1, &use_regex, path, "pre_tokenizer ByteLevel");
    if (rc == CM_OK && use_regex) rc = cm_bpe_regex_compile(GPT2_PATTERN, &bl->re);
    if (rc != CM_OK) { free(bl); return rc; }
    for (int b = 0; b < 256; b++) bl->maplen[b] = (uint8_t)cm_utf8_encode(cm_bpe_byte_char((uint8_t)b), bl->map[b]);
    *out = &bl->base;
    return CM_OK;
}

int cm_tok_pretok_split_json(cm_tok_pretok **out, const cJSON *j, const char *path) {
    *out = NULL;
    const char *pat, *beh = jstr(j, "behavior");
    int is_re = 0, invert = 0, behavior;
    CM_TRY(cm_bpe_json_pattern(j, path, "pre_tokenizer Split", &pat, &is_re));
    CM_TRY(jbool(j, "invert", 0, &invert, path, "pre_tokenizer Split"));
    if (!beh) return cm_error(CM_ERR_FORMAT, "%s: pre_tokenizer Split: field 'behavior': expected a string", path);
    if (strcmp(beh, "Removed") == 0) behavior = B_REMOVED;
    else if (strcmp(beh, "Isolated") == 0) behavior = B_ISOLATED;
    else if (strcmp(beh, "MergedWithPrevious") == 0) behavior = B_MERGED_PREV;
    else if (strcmp(beh, "MergedWithNext") == 0) behavior = B_MERGED_NEXT;
    else if (strcmp(beh, "Contiguous") == 0) behavior = B_CONTIGUOUS;
    else return cm_error(CM_ERR_FORMAT, "%s: pre_tokenizer Split: field 'behavior': expected Removed, Isolated, "
                         "MergedWithPrevious, MergedWithNext or Contiguous, got \"%s\"", path, beh);
    return new_splitter(out, is_re ? NULL : pat, is_re ? pat : NULL, behavior, invert, path, "pre_tokenizer Split");
}

int cm_tok_pretok_digits_json(cm_tok_pretok **out, const cJSON *j, const char *path) {
    *out = NULL;
    int individual = 0;
    CM_TRY(jbool(j, "individual_digits", 0, &individual, path, "pre_tokenizer Digits"));
    return new_splitter(out, NULL, individual ? "\\p{N}" : "\\p{N}+", B_ISOLATED, 0, path, "pre_tokenizer Digits");
}
