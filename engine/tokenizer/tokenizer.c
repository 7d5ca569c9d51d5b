/*
 * tokenizer.c: implements the tokenizer.h pipeline: loading tokenizer.json
 * (or vocab.txt), splitting added/special tokens out of the text, running
 * normalizer -> pre-tokenizer -> model on the stretches between them,
 * truncation, and the post-processor (TemplateProcessing, BertProcessing,
 * RobertaProcessing, ByteLevel, Sequence).
 */
#include "engine/tokenizer/tokenizer.h"

#include "cmteb/array.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/text/unicode.h"

#include <stdlib.h>
#include <string.h>

typedef struct added_tok {
    char   *content;
    size_t  len;
    int32_t id;
    int     special, single_word, lstrip, rstrip, normalized;
} added_tok;

/* One item of a template: a special token (ids) or the sequence. */
typedef struct tmpl_item {
    int      is_seq;
    int32_t *ids;
    size_t   n;
} tmpl_item;

struct cm_tokenizer {
    char              *path;
    char               model_type[32];
    cm_tok_normalizer *norm;
    cm_tok_pretok     *pretok;
    cm_tok_model      *model;
    added_tok         *added;
    size_t             n_added;
    uint32_t          *added_order;        /* (n_added) added indices grouped by first byte, in order */
    uint32_t           added_first[257];   /* byte b's group: added_order[added_first[b] .. added_first[b+1]) */
    size_t             n_indexed;          /* n_added when the index was built (else find_added scans all) */
    cm_tok_vocab      *added_vocab;
    tmpl_item         *tmpl;          /* single-sequence template, NULL if no post-processor */
    size_t             n_tmpl;
    size_t             n_special;     /* tokens the template adds */
    size_t             json_max_length;
    size_t             vocab_size;
};

cm_tok_options cm_tok_default_options(void) {
    cm_tok_options o = {1, 0};
    return o;
}

void cm_tok_encoding_free(cm_tok_encoding *enc) {
    if (!enc) return;
    free(enc->ids);
    free(enc->offsets);
    free(enc->special);
    memset(enc, 0, sizeof *enc);
}

static int enc_push(cm_tok_encoding *e, int32_t id, cm_tok_span off, int special) {
    if (e->n == e->cap) CM_TRY(cm_array_reserve3(e->ids, e->offsets, e->special, e->cap, cm_array_first(e->n + 1, 64)));
    e->ids[e->n] = id;
    e->offsets[e->n] = off;
    e->special[e->n] = (uint8_t)special;
    e->n++;
    return CM_OK;
}

void cm_tokenizer_free(cm_tokenizer *t) {
    if (!t) return;
    if (t->norm) t->norm->free(t->norm);
    if (t->pretok) t->pretok->free(t->pretok);
    if (t->model) t->model->free(t->model);
    for (size_t i = 0; i < t->n_added; i++) free(t->added[i].content);
    free(t->added);
    free(t->added_order);
    cm_tok_vocab_free(t->added_vocab);
    for (size_t i = 0; i < t->n_tmpl; i++) free(t->tmpl[i].ids);
    free(t->tmpl);
    free(t->path);
    free(t);
}

/* ---- added tokens ------------------------------------------------------ */

static int is_word_char(uint32_t cp) {
    if (cp == '_') return 1;
    cm_ucat c = cm_u_category(cp);
    return (c >= CM_UCAT_Lu && c <= CM_UCAT_Lo) || (c >= CM_UCAT_Mn && c <= CM_UCAT_No);
}

/* Finds the leftmost-longest added token (with normalized == want_norm)
 * in s[from..len). Sets *a,*e to the match (with lstrip/rstrip whitespace
 * absorbed) and *which. Returns 1 when found. */
static int find_added(const cm_tokenizer *t, const char *s, size_t len, size_t from, int want_norm, size_t *ma,
                      size_t *me, size_t *which) {
    if (!t->n_added) return 0;
    for (size_t i = from; i < len; i++) {
        size_t best = (size_t)-1, blen = 0;
        unsigned char b0 = (unsigned char)s[i];
        int idx = t->added_order && t->n_indexed == t->n_added;
        size_t lo = idx ? t->added_first[b0] : 0, hi = idx ? t->added_first[b0 + 1] : t->n_added;
        for (size_t q = lo; q < hi; q++) {
            size_t k = idx ? t->added_order[q] : q;
            const added_tok *a = &t->added[k];
            if (a->normalized != want_norm || a->len == 0 || a->len <= blen || a->len > len - i) continue;
            if (memcmp(s + i, a->content, a->len) != 0) continue;
            if (a->single_word) {
                uint32_t cp;
                if (i > 0) {
                    size_t b = i - 1;
                    while (b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80) b--;
                    cm_utf8_decode(s + b, len - b, &cp);
                    if (cp != 0xFFFFFFFFu && is_word_char(cp)) continue;
                }
                if (i + a->len < len) {
                    cm_utf8_decode(s + i + a->len, len - i - a->len, &cp);
                    if (cp != 0xFFFFFFFFu && is_word_char(cp)) continue;
                }
            }
            best = k;
            blen = a->len;
        }
        if (best != (size_t)-1) {
            size_t a = i, e = i + blen;
            if (t->added[best].lstrip)
                while (a > from && (s[a - 1] == ' ' || s[a - 1] == '\t' || s[a - 1] == '\n' || s[a - 1] == '\r')) a--;
            if (t->added[best].rstrip)
                while (e < len && (s[e] == ' ' || s[e] == '\t' || s[e] == '\n' || s[e] == '\r')) e++;
            *ma = a;
            *me = e;
            *which = best;
            return 1;
        }
    }
    return 0;
}

/* ---- encoding ---------------------------------------------------------- */

typedef struct enc_scratch {
    cm_tok_nstr   seg;
    cm_tok_words  w0, w1;
    cm_tok_pieces pieces;
} enc_scratch;

static void scratch_free(enc_scratch *sc) {
    cm_tok_nstr_free(&sc->seg);
    cm_tok_words_free(&sc->w0);
    cm_tok_words_free(&sc->w1);
    cm_tok_pieces_free(&sc->pieces);
}

/* Runs pre-tokenizer and model on a normalized stretch. */
static int encode_normalized(const cm_tokenizer *t, const cm_tok_nstr *s, size_t a, size_t e, enc_scratch *sc,
                             cm_tok_encoding *out) {
    if (e <= a) return CM_OK;
    cm_tok_words_clear(&sc->w0);
    CM_TRY(cm_tok_words_add(&sc->w0, s->s + a, e - a, s->align + a, (cm_tok_span){0, 0}));
    const cm_tok_words *words = &sc->w0;
    if (t->pretok) {
        cm_tok_words_clear(&sc->w1);
        CM_TRY(t->pretok->split(t->pretok, &sc->w0, &sc->w1));
        words = &sc->w1;
    }
    for (size_t w = 0; w < words->n; w++) {
        size_t wa = words->off[w], we = words->off[w + 1];
        if (we <= wa) continue;
        sc->pieces.n = 0;
        CM_TRY(t->model->tokenize(t->model, words->s.s + wa, we - wa, &sc->pieces));
        for (size_t k = 0; k < sc->pieces.n; k++) {
            cm_tok_span sp = sc->pieces.span[k], off = {0, 0};
            if (sp.end > sp.start && wa + sp.end <= we) {
                off.start = words->s.align[wa + sp.start].start;
                off.end = words->s.align[wa + sp.end - 1].end;
            }
            int32_t id = sc->pieces.ids[k];
            CM_TRY(enc_push(out, id, off, 0));
        }
    }
    return CM_OK;
}

/* Normalizes raw[a..e) (offsets relative to text start base), splits
 * normalized added tokens out, and encodes the rest. */
static int encode_segment(const cm_tokenizer *t, const char *raw, size_t a, size_t e, enc_scratch *sc,
                          cm_tok_encoding *out) {
    cm_tok_nstr_clear(&sc->seg);
    CM_TRY(cm_tok_nstr_append(&sc->seg, "", 0, (cm_tok_span){0, 0}));
    for (size_t i = a; i < e;) {
        size_t l = cm_utf8_len((unsigned char)raw[i]);
        if (i + l > e) l = e - i;
        CM_TRY(cm_tok_nstr_append(&sc->seg, raw + i, l, (cm_tok_span){(uint32_t)i, (uint32_t)(i + l)}));
        i += l;
    }
    if (t->norm) CM_TRY(t->norm->normalize(t->norm, &sc->seg));
    const cm_tok_nstr *s = &sc->seg;
    size_t from = 0, ma, me, which;
    while (from < s->len && find_added(t, s->s, s->len, from, 1, &ma, &me, &which)) {
        CM_TRY(encode_normalized(t, s, from, ma, sc, out));
        cm_tok_span off = {s->align[ma].start, s->align[me - 1].end};
        CM_TRY(enc_push(out, t->added[which].id, off, t->added[which].special));
        from = me;
    }
    return encode_normalized(t, s, from, s->len, sc, out);
}

int cm_tokenizer_encode(const cm_tokenizer *t, const char *text, const cm_tok_options *opt, cm_tok_encoding *enc) {
    cm_tok_options dflt = cm_tok_default_options();
    if (!opt) opt = &dflt;
    enc->n = 0;
    enc->n_truncated = 0;
    size_t len = strlen(text);
    if (len > 0xFFFFFFF0u) return cm_error(CM_ERR_ARG, "text of %zu bytes is too long to tokenize", len);
    enc_scratch sc = {0};
    cm_tok_encoding body = {0};
    int rc = CM_OK;
    size_t from = 0, ma, me, which;
    while (rc == CM_OK && from < len && find_added(t, text, len, from, 0, &ma, &me, &which)) {
        rc = encode_segment(t, text, from, ma, &sc, &body);
        if (rc == CM_OK)
            rc = enc_push(&body, t->added[which].id, (cm_tok_span){(uint32_t)ma, (uint32_t)me},
                          t->added[which].special);
        from = me;
    }
    if (rc == CM_OK && from < len) rc = encode_segment(t, text, from, len, &sc, &body);
    scratch_free(&sc);
    /* truncation */
    size_t add = opt->add_special_tokens ? t->n_special : 0;
    if (rc == CM_OK && opt->max_length) {
        size_t keep = opt->max_length > add ? opt->max_length - add : 0;
        if (body.n > keep) {
            enc->n_truncated = body.n - keep;
            body.n = keep;
        }
    }
    /* post-processing */
    if (rc == CM_OK && opt->add_special_tokens && t->tmpl) {
        for (size_t i = 0; i < t->n_tmpl && rc == CM_OK; i++) {
            if (t->tmpl[i].is_seq) {
                for (size_t k = 0; k < body.n && rc == CM_OK; k++)
                    rc = enc_push(enc, body.ids[k], body.offsets[k], body.special[k]);
            } else {
                for (size_t k = 0; k < t->tmpl[i].n && rc == CM_OK; k++)
                    rc = enc_push(enc, t->tmpl[i].ids[k], (cm_tok_span){0, 0}, 1);
            }
        }
    } else if (rc == CM_OK) {
        for (size_t k = 0; k < body.n && rc == CM_OK; k++)
            rc = enc_push(enc, body.ids[k], body.offsets[k], body.special[k]);
    }
    cm_tok_encoding_free(&body);
    return rc;
}

/* ---- accessors --------------------------------------------------------- */

const char *cm_tokenizer_id_to_token(const cm_tokenizer *t, int32_t id) {
    for (size_t i = 0; i < t->n_added; i++)
        if (t->added[i].id == id) return t->added[i].content;
    return t->model->id_to_token(t->model, id);
}

int32_t cm_tokenizer_token_to_id(const cm_tokenizer *t, const char *tok) {
    int32_t id = cm_tok_vocab_get(t->added_vocab, tok, strlen(tok));
    if (id >= 0) return id;
    return t->model->token_to_id(t->model, tok, strlen(tok));
}

size_t cm_tokenizer_vocab_size(const cm_tokenizer *t) { return t->vocab_size; }
size_t cm_tokenizer_num_special(const cm_tokenizer *t) { return t->n_special; }
const char *cm_tokenizer_model_type(const cm_tokenizer *t) { return t->model_type; }
size_t cm_tokenizer_json_max_length(const cm_tokenizer *t) { return t->json_max_length; }

/* ---- loading ----------------------------------------------------------- */

static int tmpl_add(cm_tokenizer *t, int is_seq, const int32_t *ids, size_t n) {
    tmpl_item *nt = cm_realloc(t->tmpl, (t->n_tmpl + 1) * sizeof *nt);
    if (!nt) return CM_ERR_NOMEM;
    t->tmpl = nt;
    tmpl_item *it = &t->tmpl[t->n_tmpl];
    memset(it, 0, sizeof *it);
    it->is_seq = is_seq;
    if (n) {
        it->ids = cm_malloc(n * sizeof *it->ids);
        if (!it->ids) return CM_ERR_NOMEM;
        memcpy(it->ids, ids, n * sizeof *ids);
        it->n = n;
        t->n_special += n;
    }
    t->n_tmpl++;
    return CM_OK;
}

/* BertProcessing / RobertaProcessing: {"sep": [tok, id], "cls": [tok, id]}. */
static int pair_id(const cJSON *j, const char *key, const char *path, int32_t *id) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, key);
    const cJSON *v = cJSON_GetArrayItem(p, 1);
    if (!cJSON_IsArray(p) || !cJSON_IsNumber(v))
        return cm_error(CM_ERR_FORMAT, "%s: post_processor.%s: expected [token, id]", path, key);
    *id = (int32_t)v->valueint;
    return CM_OK;
}

static int load_post(cm_tokenizer *t, const cJSON *pp, const char *path) {
    if (!pp || cJSON_IsNull(pp)) return CM_OK;
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(pp, "type");
    if (!cJSON_IsString(ty)) return cm_error(CM_ERR_FORMAT, "%s: post_processor: expected a \"type\" string", path);
    const char *type = ty->valuestring;
    if (!strcmp(type, "BertProcessing") || !strcmp(type, "RobertaProcessing")) {
        int32_t cls = -1, sep = -1;
        CM_TRY(pair_id(pp, "cls", path, &cls));
        CM_TRY(pair_id(pp, "sep", path, &sep));
        CM_TRY(tmpl_add(t, 0, &cls, 1));
        CM_TRY(tmpl_add(t, 1, NULL, 0));
        return tmpl_add(t, 0, &sep, 1);
    }
    if (!strcmp(type, "ByteLevel")) return CM_OK;   /* offsets only; ids unchanged */
    if (!strcmp(type, "Sequence")) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(pp, "processors");
        if (!cJSON_IsArray(arr))
            return cm_error(CM_ERR_FORMAT, "%s: post_processor Sequence: expected \"processors\": [...]", path);
        for (const cJSON *it = arr->child; it; it = it->next) {
            if (t->tmpl) {
                const cJSON *ity = cJSON_GetObjectItemCaseSensitive(it, "type");
                if (cJSON_IsString(ity) && !strcmp(ity->valuestring, "ByteLevel")) continue;
                return cm_error(CM_ERR_UNSUPPORTED, "%s: post_processor Sequence with two templates", path);
            }
            CM_TRY(load_post(t, it, path));
        }
        return CM_OK;
    }
    if (strcmp(type, "TemplateProcessing") != 0)
        return cm_error(CM_ERR_UNSUPPORTED, "%s: post_processor type '%s' is not supported (expected "
                        "TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel or Sequence)", path, type);
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(pp, "single");
    const cJSON *specials = cJSON_GetObjectItemCaseSensitive(pp, "special_tokens");
    if (!cJSON_IsArray(single))
        return cm_error(CM_ERR_FORMAT, "%s: post_processor.single: expected a template array", path);
    for (const cJSON *it = single->child; it; it = it->next) {
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(it, "SpecialToken");
        const cJSON *sq = cJSON_GetObjectItemCaseSensitive(it, "Sequence");
        if (sq) {
            CM_TRY(tmpl_add(t, 1, NULL, 0));
            continue;
        }
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(sp, "id");
        if (!cJSON_IsString(sid))
            return cm_error(CM_ERR_FORMAT, "%s: post_processor.single: expected {\"SpecialToken\": {\"id\": ...}} "
                            "or {\"Sequence\": ...}", path);
        const cJSON *def = cJSON_GetObjectItemCaseSensitive(specials, sid->valuestring);
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(def, "ids");
        if (!cJSON_IsArray(ids))
            return cm_error(CM_ERR_FORMAT, "%s: post_processor.special_tokens['%s'].ids: expected an array of ids",
                            path, sid->valuestring);
        int32_t buf[16];
        size_t n = 0;
        for (const cJSON *v = ids->child; v && n < 16; v = v->next) {
            if (!cJSON_IsNumber(v))
                return cm_error(CM_ERR_FORMAT, "%s: post_processor.special_tokens['%s'].ids: expected numbers", path,
                                sid->valuestring);
            buf[n++] = (int32_t)v->valueint;
        }
        CM_TRY(tmpl_add(t, 0, buf, n));
    }
    return CM_OK;
}

static int add_added(cm_tokenizer *t, const char *content, int32_t id, int special, int single_word, int lstrip,
                     int rstrip, int normalized) {
    added_tok *na = cm_realloc(t->added, (t->n_added + 1) * sizeof *na);
    if (!na) return CM_ERR_NOMEM;
    t->added = na;
    added_tok *a = &t->added[t->n_added];
    memset(a, 0, sizeof *a);
    a->content = cm_strdup(content);
    if (!a->content) return CM_ERR_NOMEM;
    a->len = strlen(content);
    a->id = id;
    a->special = special;
    a->single_word = single_word;
    a->lstrip = lstrip;
    a->rstrip = rstrip;
    a->normalized = normalized;
    t->n_added++;
    if ((size_t)id + 1 > t->vocab_size) t->vocab_size = (size_t)id + 1;
    return cm_tok_vocab_put(t->added_vocab, content, a->len, id);
}

/* Groups the added tokens by first byte (a counting sort that keeps their order) for find_added; call
 * after the last add_added. */
static int index_added(cm_tokenizer *t) {
    free(t->added_order);
    t->added_order = cm_malloc((t->n_added ? t->n_added : 1) * sizeof *t->added_order);
    if (!t->added_order) return CM_ERR_NOMEM;
    memset(t->added_first, 0, sizeof t->added_first);
    for (size_t k = 0; k < t->n_added; k++)
        if (t->added[k].len) t->added_first[(unsigned char)t->added[k].content[0] + 1]++;
    for (size_t b = 0; b < 256; b++) t->added_first[b + 1] += t->added_first[b];
    uint32_t fill[256];
    memcpy(fill, t->added_first, sizeof fill);
    for (size_t k = 0; k < t->n_added; k++)
        if (t->added[k].len) t->added_order[fill[(unsigned char)t->added[k].content[0]]++] = (uint32_t)k;
    t->n_indexed = t->n_added;
    return CM_OK;
}

static int jb(const cJSON *j, const char *k, int d) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : d;
}

static int new_tokenizer(cm_tokenizer **out, const char *path) {
    cm_tokenizer *t = cm_calloc(1, sizeof *t);
    if (!t) return CM_ERR_NOMEM;
    t->path = cm_strdup(path);
    if (!t->path || cm_tok_vocab_new(&t->added_vocab, 16)) {
        cm_tokenizer_free(t);
        return CM_ERR_NOMEM;
    }
    *out = t;
    return CM_OK;
}

static int load_json_obj(cm_tokenizer *t, const cJSON *j, const char *path) {
    if (!cJSON_IsObject(j)) return cm_error(CM_ERR_FORMAT, "%s: expected a JSON object (tokenizer.json)", path);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    if (!cJSON_IsObject(model)) return cm_error(CM_ERR_FORMAT, "%s: field 'model': expected an object", path);
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(model, "type");
    snprintf(t->model_type, sizeof t->model_type, "%s", cJSON_IsString(mt) ? mt->valuestring : "WordPiece");
    CM_TRY(cm_tok_model_from_json(&t->model, model, path));
    t->vocab_size = t->model->vocab_size(t->model);
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(j, "normalizer");
    if (norm && !cJSON_IsNull(norm)) CM_TRY(cm_tok_normalizer_from_json(&t->norm, norm, path));
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(j, "pre_tokenizer");
    if (pre && !cJSON_IsNull(pre)) CM_TRY(cm_tok_pretok_from_json(&t->pretok, pre, path));
    CM_TRY(load_post(t, cJSON_GetObjectItemCaseSensitive(j, "post_processor"), path));
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(j, "added_tokens");
    for (const cJSON *a = cJSON_IsArray(added) ? added->child : NULL; a; a = a->next) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(a, "content");
        if (!cJSON_IsNumber(id) || !cJSON_IsString(c) || id->valuedouble < 0)
            return cm_error(CM_ERR_FORMAT, "%s: added_tokens: expected {\"id\": n, \"content\": str, ...}", path);
        CM_TRY(add_added(t, c->valuestring, (int32_t)id->valueint, jb(a, "special", 0), jb(a, "single_word", 0),
                         jb(a, "lstrip", 0), jb(a, "rstrip", 0), jb(a, "normalized", 0)));
    }
    CM_TRY(index_added(t));
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(j, "truncation");
    const cJSON *ml = cJSON_GetObjectItemCaseSensitive(tr, "max_length");
    if (cJSON_IsNumber(ml) && ml->valuedouble > 0) t->json_max_length = (size_t)ml->valuedouble;
    return CM_OK;
}

int cm_tokenizer_load_json(cm_tokenizer **out, const char *path) {
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    CM_TRY(cm_read_file(path, &text, &len));
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    if (!j) return cm_error(CM_ERR_FORMAT, "%s: not valid JSON", path);
    cm_tokenizer *t = NULL;
    int rc = new_tokenizer(&t, path);
    if (rc == CM_OK) rc = load_json_obj(t, j, path);
    cJSON_Delete(j);
    if (rc) {
        cm_tokenizer_free(t);
        return rc;
    }
    *out = t;
    return CM_OK;
}

/* vocab.txt: one token per line, id = line number (0-based). Built as the
 * BERT pipeline tokenizer.json would describe it. */
int cm_tokenizer_load_vocab(cm_tokenizer **out, const char *path, int lowercase) {
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    CM_TRY(cm_read_file(path, &text, &len));
    size_t n = 0, cap = 0;
    const char **toks = NULL;
    int rc = cm_array_reserve(toks, cap, 1024);
    for (char *p = text; rc == CM_OK && p < text + len;) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        char *e = nl ? nl : text + len;
        if (e > p && e[-1] == '\r') e[-1] = '\0';
        *e = '\0';
        if ((rc = cm_array_push(toks, n, cap, p)) != CM_OK) break;
        p = e + 1;
    }
    cm_tokenizer *t = NULL;
    if (rc == CM_OK) rc = new_tokenizer(&t, path);
    if (rc == CM_OK) {
        snprintf(t->model_type, sizeof t->model_type, "WordPiece");
        rc = cm_tok_wordpiece_new(&t->model, toks, n, "[UNK]", "##", 100);
        if (rc) rc = cm_error_wrap(rc, "%s", path);
    }
    if (rc == CM_OK) {
        t->vocab_size = n;
        cm_tok_bert_norm_opts o = {1, 1, -1, lowercase};
        rc = cm_tok_bert_normalizer_new(&t->norm, o);
    }
    if (rc == CM_OK) rc = cm_tok_bert_pretok_new(&t->pretok);
    int32_t cls = -1, sep = -1;
    if (rc == CM_OK) {
        static const char *const sp[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
        for (size_t i = 0; i < 5 && rc == CM_OK; i++) {
            int32_t id = t->model->token_to_id(t->model, sp[i], strlen(sp[i]));
            if (id >= 0) rc = add_added(t, sp[i], id, 1, 0, 0, 0, 0);
            if (i == 2) cls = id;
            if (i == 3) sep = id;
        }
        if (rc == CM_OK && (cls < 0 || sep < 0))
            rc = cm_error(CM_ERR_FORMAT, "%s: vocab.txt lacks [CLS] or [SEP]; expected a BERT vocabulary", path);
    }
    if (rc == CM_OK) rc = index_added(t);
    if (rc == CM_OK) rc = tmpl_add(t, 0, &cls, 1);
    if (rc == CM_OK) rc = tmpl_add(t, 1, NULL, 0);
    if (rc == CM_OK) rc = tmpl_add(t, 0, &sep, 1);
    free(toks);
    free(text);
    if (rc) {
        cm_tokenizer_free(t);
        return rc;
    }
    *out = t;
    return CM_OK;
}

int cm_tokenizer_load(cm_tokenizer **out, const char *path) {
    *out = NULL;
    if (!cm_dir_exists(path)) {
        size_t l = strlen(path);
        if (l >= 4 && !strcmp(path + l - 4, ".txt")) return cm_tokenizer_load_vocab(out, path, 1);
        return cm_tokenizer_load_json(out, path);
    }
    char *tj = cm_path_join(path, "tokenizer.json");
    char *vt = cm_path_join(path, "vocab.txt");
    char *tc = cm_path_join(path, "tokenizer_config.json");
    int rc = (tj && vt && tc) ? CM_OK : CM_ERR_NOMEM;
    if (rc == CM_OK) {
        if (cm_file_exists(tj)) {
            rc = cm_tokenizer_load_json(out, tj);
        } else if (cm_file_exists(vt)) {
            int lower = 1;
            if (cm_file_exists(tc)) {
                char *text = NULL;
                size_t len = 0;
                if (cm_read_file(tc, &text, &len) == CM_OK) {
                    cJSON *j = cJSON_ParseWithLength(text, len);
                    lower = jb(j, "do_lower_case", 1);
                    cJSON_Delete(j);
                    free(text);
                }
            }
            rc = cm_tokenizer_load_vocab(out, vt, lower);
        } else {
            rc = cm_error(CM_ERR_NOTFOUND, "%s: no tokenizer.json or vocab.txt (sentencepiece .model files are not "
                          "supported: export tokenizer.json with the tokenizers library)", path);
        }
    }
    free(tj);
    free(vt);
    free(tc);
    return rc;
}
