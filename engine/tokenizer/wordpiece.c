/*
 * wordpiece.c: the BERT-family tokenizer components of tokenizer.h,
 * following huggingface/tokenizers semantics:
 *   pre-tokenizers  BertPreTokenizer (split on whitespace, isolate each
 *                   punctuation char), WhitespaceSplit, the Sequence wrapper
 *   model           WordPiece (greedy longest match first, "##" prefix,
 *                   whole word -> unk when a part fails or the word is longer
 *                   than max_input_chars_per_word characters)
 */
#include "engine/tokenizer/tokenizer.h"

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/text/unicode.h"

#include <stdlib.h>
#include <string.h>

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
                if (i > start)
                    CM_TRY(cm_tok_words_add(out, s->s + start, i - start, s->align + start, s->align[start]));
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

int cm_tok_pretok_sequence_new(cm_tok_pretok **out, cm_tok_pretok *const *items, size_t n) {
    *out = NULL;
    seq_pretok *q = cm_calloc(1, sizeof *q);
    if (q) q->items = cm_calloc(n ? n : 1, sizeof *q->items);
    if (!q || !q->items) {
        for (size_t i = 0; i < n; i++)
            if (items[i]) items[i]->free(items[i]);
        free(q);
        return CM_ERR_NOMEM;
    }
    q->base.split = seq_pretok_split;
    q->base.free = seq_pretok_free;
    for (size_t i = 0; i < n; i++) q->items[q->n++] = items[i];
    *out = &q->base;
    return CM_OK;
}

int cm_tok_pretok_bert_json(cm_tok_pretok **out, const cJSON *j, const char *path) {
    (void)j, (void)path;
    *out = NULL;
    return simple_pretok_new(out, 1);
}

int cm_tok_pretok_whitespace_split_json(cm_tok_pretok **out, const cJSON *j, const char *path) {
    (void)j, (void)path;
    *out = NULL;
    return simple_pretok_new(out, 0);
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

int cm_tok_model_wordpiece_json(cm_tok_model **out, const cJSON *j, const char *path) {
    *out = NULL;
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(j, "vocab");
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
