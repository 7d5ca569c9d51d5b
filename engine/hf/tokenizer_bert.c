/*
 * tokenizer_bert.c: implements the BERT-family tokenizer components of
 * tokenizer.h, following huggingface/tokenizers semantics:
 *   normalizers     BertNormalizer (clean_text, handle_chinese_chars,
 *                   strip_accents (null = follow lowercase), lowercase),
 *                   Lowercase, NFD, StripAccents, Strip
 *   pre-tokenizers  BertPreTokenizer (split on whitespace, isolate each
 *                   punctuation char), WhitespaceSplit
 *   model           WordPiece (greedy longest match first, "##" prefix,
 *                   whole word -> unk when a part fails or the word is longer
 *                   than max_input_chars_per_word characters)
 */
#include "engine/hf/tokenizer.h"

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/hf/unicode.h"

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
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 64;
        uint32_t *nc1 = cm_realloc(b->cp, nc * sizeof *nc1);
        if (!nc1) return CM_ERR_NOMEM;
        b->cp = nc1;
        cm_tok_span *ns = cm_realloc(b->sp, nc * sizeof *ns);
        if (!ns) return CM_ERR_NOMEM;
        b->sp = ns;
        b->cap = nc;
    }
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
        memmove(s->s, s->s + a, e - a);
        memmove(s->align, s->align + a, (e - a) * sizeof *s->align);
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

static const char *jtype(const cJSON *j) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

int cm_tok_normalizer_from_json(cm_tok_normalizer **out, const cJSON *j, const char *path) {
    *out = NULL;
    const char *type = jtype(j);
    if (!type) return cm_error(CM_ERR_FORMAT, "%s: normalizer: expected an object with a \"type\" string", path);
    if (!strcmp(type, "BertNormalizer")) {
        cm_tok_bert_norm_opts o = {1, 1, -1, 1};
        o.clean_text = jbool(j, "clean_text", 1);
        o.handle_chinese_chars = jbool(j, "handle_chinese_chars", 1);
        o.lowercase = jbool(j, "lowercase", 1);
        const cJSON *sa = cJSON_GetObjectItemCaseSensitive(j, "strip_accents");
        o.strip_accents = cJSON_IsBool(sa) ? cJSON_IsTrue(sa) : -1;
        return cm_tok_bert_normalizer_new(out, o);
    }
    if (!strcmp(type, "Lowercase")) return simple_norm_new(out, 0, 0, 0);
    if (!strcmp(type, "NFD")) return simple_norm_new(out, 1, 0, 0);
    if (!strcmp(type, "StripAccents")) return simple_norm_new(out, 2, 0, 0);
    if (!strcmp(type, "Strip")) return simple_norm_new(out, 3, jbool(j, "strip_left", 1), jbool(j, "strip_right", 1));
    if (!strcmp(type, "Sequence")) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "normalizers");
        if (!cJSON_IsArray(arr))
            return cm_error(CM_ERR_FORMAT, "%s: normalizer Sequence: expected \"normalizers\": [...]", path);
        seq_norm *q = cm_calloc(1, sizeof *q);
        if (!q) return CM_ERR_NOMEM;
        q->base.normalize = seq_norm_apply;
        q->base.free = seq_norm_free;
        size_t n = (size_t)cJSON_GetArraySize(arr);
        q->items = cm_calloc(n ? n : 1, sizeof *q->items);
        if (!q->items) {
            free(q);
            return CM_ERR_NOMEM;
        }
        for (const cJSON *it = arr->child; it; it = it->next) {
            int rc = cm_tok_normalizer_from_json(&q->items[q->n], it, path);
            if (rc) {
                seq_norm_free(&q->base);
                return rc;
            }
            q->n++;
        }
        *out = &q->base;
        return CM_OK;
    }
    return cm_tok_ext_normalizer(out, j, path);
}

/* ---- pre-tokenizers ---------------------------------------------------- */

typedef struct simple_pretok {
    cm_tok_pretok base;
    int           bert;   /* 1: BertPreTokenizer, 0: WhitespaceSplit */
} simple_pretok;

static int is_bert_punct(uint32_t cp) {
    if (cp < 0x80)
        return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
    return cm_u_is_punct(cp);
}

static int simple_pretok_split(const cm_tok_pretok *self, const cm_tok_words *in, cm_tok_words *out) {
    const simple_pretok *p = (const simple_pretok *)self;
    const cm_tok_nstr *s = &in->s;
    for (size_t w = 0; w < in->n; w++) {
        size_t a = in->off[w], e = in->off[w + 1];
        size_t start = a;   /* start of the current word */
        for (size_t i = a; i < e;) {
            uint32_t cp;
            size_t l = cm_utf8_decode(s->s + i, e - i, &cp);
            int ws = cp != 0xFFFFFFFFu && cm_u_is_whitespace(cp);
            int pu = p->bert && cp != 0xFFFFFFFFu && is_bert_punct(cp);
            if (ws || pu) {
                if (i > start) CM_TRY(cm_tok_words_add(out, s->s + start, i - start, s->align + start, s->align[start]));
                if (pu) CM_TRY(cm_tok_words_add(out, s->s + i, l, s->align + i, s->align[i]));
                start = i + l;
            }
            i += l;
        }
        if (e > start) CM_TRY(cm_tok_words_add(out, s->s + start, e - start, s->align + start, s->align[start]));
    }
    return CM_OK;
}

static void free_pretok(cm_tok_pretok *self) { free(self); }

static int simple_pretok_new(cm_tok_pretok **out, int bert) {
    simple_pretok *p = cm_calloc(1, sizeof *p);
    if (!p) return CM_ERR_NOMEM;
    p->base.split = simple_pretok_split;
    p->base.free = free_pretok;
    p->bert = bert;
    *out = &p->base;
    return CM_OK;
}

int cm_tok_bert_pretok_new(cm_tok_pretok **out) { return simple_pretok_new(out, 1); }

typedef struct seq_pretok {
    cm_tok_pretok   base;
    cm_tok_pretok **items;
    size_t          n;
} seq_pretok;

static int seq_pretok_split(const cm_tok_pretok *self, const cm_tok_words *in, cm_tok_words *out) {
    const seq_pretok *q = (const seq_pretok *)self;
    if (q->n == 0) {
        for (size_t w = 0; w < in->n; w++)
            CM_TRY(cm_tok_words_add(out, in->s.s + in->off[w], in->off[w + 1] - in->off[w],
                                    in->s.align + in->off[w], (cm_tok_span){0, 0}));
        return CM_OK;
    }
    cm_tok_words a = {0}, b = {0};
    int rc = CM_OK;
    const cm_tok_words *cur = in;
    for (size_t i = 0; i < q->n && rc == CM_OK; i++) {
        cm_tok_words *dst = (i == q->n - 1) ? out : (cur == &a ? &b : &a);
        if (dst != out) cm_tok_words_clear(dst);
        rc = q->items[i]->split(q->items[i], cur, dst);
        cur = dst;
    }
    cm_tok_words_free(&a);
    cm_tok_words_free(&b);
    return rc;
}

static void seq_pretok_free(cm_tok_pretok *self) {
    seq_pretok *q = (seq_pretok *)self;
    for (size_t i = 0; i < q->n; i++)
        if (q->items[i]) q->items[i]->free(q->items[i]);
    free(q->items);
    free(q);
}

int cm_tok_pretok_from_json(cm_tok_pretok **out, const cJSON *j, const char *path) {
    *out = NULL;
    const char *type = jtype(j);
    if (!type) return cm_error(CM_ERR_FORMAT, "%s: pre_tokenizer: expected an object with a \"type\" string", path);
    if (!strcmp(type, "BertPreTokenizer")) return simple_pretok_new(out, 1);
    if (!strcmp(type, "WhitespaceSplit")) return simple_pretok_new(out, 0);
    if (!strcmp(type, "Sequence")) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "pretokenizers");
        if (!cJSON_IsArray(arr))
            return cm_error(CM_ERR_FORMAT, "%s: pre_tokenizer Sequence: expected \"pretokenizers\": [...]", path);
        seq_pretok *q = cm_calloc(1, sizeof *q);
        if (!q) return CM_ERR_NOMEM;
        q->base.split = seq_pretok_split;
        q->base.free = seq_pretok_free;
        size_t n = (size_t)cJSON_GetArraySize(arr);
        q->items = cm_calloc(n ? n : 1, sizeof *q->items);
        if (!q->items) {
            free(q);
            return CM_ERR_NOMEM;
        }
        for (const cJSON *it = arr->child; it; it = it->next) {
            int rc = cm_tok_pretok_from_json(&q->items[q->n], it, path);
            if (rc) {
                seq_pretok_free(&q->base);
                return rc;
            }
            q->n++;
        }
        *out = &q->base;
        return CM_OK;
    }
    return cm_tok_ext_pretok(out, j, path);
}

/* ---- WordPiece ---------------------------------------------------------- */

typedef struct wordpiece {
    cm_tok_model  base;
    cm_tok_vocab *vocab;
    char        **tokens;   /* (n) id -> token */
    size_t        n;
    int32_t       unk;
    char         *prefix;
    size_t        prefix_len;
    size_t        max_chars;
} wordpiece;

static int wp_tokenize(const cm_tok_model *self, const char *word, size_t len, cm_tok_pieces *out) {
    const wordpiece *w = (const wordpiece *)self;
    size_t nchars = 0;
    for (size_t i = 0; i < len; i += cm_utf8_len((unsigned char)word[i])) nchars++;
    if (nchars > w->max_chars) return cm_tok_pieces_push(out, w->unk, 0, (uint32_t)len);
    size_t first = out->n;
    char stackbuf[512];
    char *buf = stackbuf;
    if (len + w->prefix_len + 1 > sizeof stackbuf) {
        buf = cm_malloc(len + w->prefix_len + 1);
        if (!buf) return CM_ERR_NOMEM;
    }
    memcpy(buf, w->prefix, w->prefix_len);
    int rc = CM_OK, bad = 0;
    size_t start = 0;
    while (start < len) {
        size_t end = len;
        int32_t found = -1;
        while (end > start) {
            const char *cand = word + start;
            size_t cl = end - start;
            int32_t id;
            if (start > 0) {
                memcpy(buf + w->prefix_len, cand, cl);
                id = cm_tok_vocab_get(w->vocab, buf, w->prefix_len + cl);
            } else {
                id = cm_tok_vocab_get(w->vocab, cand, cl);
            }
            if (id >= 0) {
                found = id;
                break;
            }
            /* step back one character */
            end--;
            while (end > start && ((unsigned char)word[end] & 0xC0) == 0x80) end--;
        }
        if (found < 0) {
            bad = 1;
            break;
        }
        rc = cm_tok_pieces_push(out, found, (uint32_t)start, (uint32_t)end);
        if (rc) break;
        start = end;
    }
    if (buf != stackbuf) free(buf);
    if (rc) return rc;
    if (bad) {
        out->n = first;
        return cm_tok_pieces_push(out, w->unk, 0, (uint32_t)len);
    }
    return CM_OK;
}

static int32_t wp_token_to_id(const cm_tok_model *self, const char *tok, size_t len) {
    return cm_tok_vocab_get(((const wordpiece *)self)->vocab, tok, len);
}

static const char *wp_id_to_token(const cm_tok_model *self, int32_t id) {
    const wordpiece *w = (const wordpiece *)self;
    return id >= 0 && (size_t)id < w->n ? w->tokens[id] : NULL;
}

static size_t wp_vocab_size(const cm_tok_model *self) { return ((const wordpiece *)self)->n; }

static void wp_free(cm_tok_model *self) {
    wordpiece *w = (wordpiece *)self;
    if (!w) return;
    cm_tok_vocab_free(w->vocab);
    for (size_t i = 0; i < w->n; i++) free(w->tokens[i]);
    free(w->tokens);
    free(w->prefix);
    free(w);
}

int cm_tok_wordpiece_new(cm_tok_model **out, const char *const *vocab, size_t n, const char *unk_token,
                         const char *prefix, size_t max_input_chars_per_word) {
    *out = NULL;
    wordpiece *w = cm_calloc(1, sizeof *w);
    if (!w) return CM_ERR_NOMEM;
    w->base.tokenize = wp_tokenize;
    w->base.token_to_id = wp_token_to_id;
    w->base.id_to_token = wp_id_to_token;
    w->base.vocab_size = wp_vocab_size;
    w->base.free = wp_free;
    w->max_chars = max_input_chars_per_word ? max_input_chars_per_word : 100;
    w->prefix = cm_strdup(prefix ? prefix : "##");
    w->tokens = cm_calloc(n ? n : 1, sizeof *w->tokens);
    int rc = (w->prefix && w->tokens) ? cm_tok_vocab_new(&w->vocab, n) : CM_ERR_NOMEM;
    if (rc == CM_OK) {
        w->prefix_len = strlen(w->prefix);
        for (size_t i = 0; i < n && rc == CM_OK; i++) {
            w->tokens[i] = cm_strdup(vocab[i] ? vocab[i] : "");
            w->n = i + 1;
            if (!w->tokens[i]) rc = CM_ERR_NOMEM;
            else if (vocab[i]) rc = cm_tok_vocab_put(w->vocab, vocab[i], strlen(vocab[i]), (int32_t)i);
        }
    }
    if (rc == CM_OK) {
        w->unk = cm_tok_vocab_get(w->vocab, unk_token, strlen(unk_token));
        if (w->unk < 0) rc = cm_error(CM_ERR_FORMAT, "WordPiece: unk_token '%s' is not in the vocabulary", unk_token);
    }
    if (rc) {
        wp_free(&w->base);
        return rc;
    }
    *out = &w->base;
    return CM_OK;
}

int cm_tok_model_from_json(cm_tok_model **out, const cJSON *j, const char *path) {
    *out = NULL;
    const char *type = jtype(j);
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(j, "vocab");
    if (!type && cJSON_IsObject(vocab) && cJSON_GetObjectItemCaseSensitive(j, "continuing_subword_prefix"))
        type = "WordPiece";   /* some files omit the type */
    if (!type) return cm_error(CM_ERR_FORMAT, "%s: model: expected an object with a \"type\" string", path);
    if (strcmp(type, "WordPiece") != 0) return cm_tok_ext_model(out, j, path);
    if (!cJSON_IsObject(vocab))
        return cm_error(CM_ERR_FORMAT, "%s: model WordPiece: expected \"vocab\": {token: id, ...}", path);
    size_t n = 0;
    for (const cJSON *it = vocab->child; it; it = it->next) {
        if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 16777216.0)
            return cm_error(CM_ERR_FORMAT, "%s: model.vocab['%s']: expected a non-negative integer id", path,
                            it->string);
        if ((size_t)it->valueint + 1 > n) n = (size_t)it->valueint + 1;
    }
    const char **toks = cm_calloc(n ? n : 1, sizeof *toks);
    if (!toks) return CM_ERR_NOMEM;
    for (const cJSON *it = vocab->child; it; it = it->next) toks[it->valueint] = it->string;
    const cJSON *unk = cJSON_GetObjectItemCaseSensitive(j, "unk_token");
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(j, "continuing_subword_prefix");
    const cJSON *mx = cJSON_GetObjectItemCaseSensitive(j, "max_input_chars_per_word");
    int rc = cm_tok_wordpiece_new(out, toks, n, cJSON_IsString(unk) ? unk->valuestring : "[UNK]",
                                  cJSON_IsString(pre) ? pre->valuestring : "##",
                                  cJSON_IsNumber(mx) && mx->valueint > 0 ? (size_t)mx->valueint : 100);
    free(toks);
    if (rc) return cm_error_wrap(rc, "%s", path);
    return CM_OK;
}
