/* bpe_model.c: the "BPE" tokenizer model of tokenizer.json (vocab, merges by rank with HF's
 * priority-queue merge order, byte_fallback to <0xNN> tokens, unk with fuse_unk, ignore_merges,
 * continuing_subword_prefix / end_of_word_suffix) and its tokenizer.json constructor (see bpe.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/tokenizer/bpe.h"
#include "engine/text/unicode.h"

typedef struct merge_ent { uint64_t key; int32_t rank, new_id; } merge_ent;   /* key 0 = empty (ids are < 2^31) */

typedef struct bpe_model {
    cm_tok_model base;
    cm_tok_vocab *vocab;
    char        **id_tok;       /* (n_ids) token text per id, NULL for holes */
    size_t        n_ids;        /* largest id + 1 */
    merge_ent    *mt;           /* open addressing, mcap a power of two (integer-pair keys: no cm_strmap) */
    size_t        mcap;
    int32_t       byte_id[256]; /* id of "<0xNN>" or -1 */
    int           byte_fallback, fuse_unk, ignore_merges;
    int32_t       unk_id;       /* -1: no unk token */
    char         *prefix, *suffix;   /* continuing_subword_prefix, end_of_word_suffix (NULL if none) */
} bpe_model;

static uint64_t pair_key(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1; }

static size_t mix(uint64_t k) {
    k ^= k >> 33; k *= 0xff51afd7ed558ccdULL; k ^= k >> 33; k *= 0xc4ceb9fe1a85ec53ULL; k ^= k >> 33;
    return (size_t)k;
}

static const merge_ent *merge_get(const bpe_model *m, int32_t a, int32_t b) {
    if (!m->mcap) return NULL;
    uint64_t k = pair_key(a, b);
    for (size_t i = mix(k) & (m->mcap - 1);; i = (i + 1) & (m->mcap - 1)) {
        if (m->mt[i].key == k) return &m->mt[i];
        if (m->mt[i].key == 0) return NULL;
    }
}

static void merge_put(bpe_model *m, int32_t a, int32_t b, int32_t rank, int32_t new_id) {
    uint64_t k = pair_key(a, b);
    for (size_t i = mix(k) & (m->mcap - 1);; i = (i + 1) & (m->mcap - 1)) {
        if (m->mt[i].key == k || m->mt[i].key == 0) {   /* a repeated pair: the later rank wins, as in HF */
            m->mt[i] = (merge_ent){k, rank, new_id};
            return;
        }
    }
}

/* ---- the merge loop ------------------------------------------------------------ */
typedef struct sym { int32_t id; int prev, next; uint32_t start, len; } sym;
typedef struct hent { int32_t rank, new_id; int pos; } hent;

static int hless(const hent *a, const hent *b) { return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos); }

static void hpush(hent *h, size_t *n, hent e) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!hless(&e, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = e;
}

static hent hpop(hent *h, size_t *n) {
    hent top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && hless(&h[c + 1], &h[c])) c++;
        if (!hless(&h[c], &last)) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = last;
    return top;
}

static int add_sym(sym *s, size_t *n, int32_t id, uint32_t start, uint32_t len) {
    int i = (int)(*n)++;
    s[i] = (sym){id, i - 1, -1, start, len};
    if (i > 0) s[i - 1].next = i;
    return CM_OK;
}

static int bpe_tokenize(const cm_tok_model *self, const char *word, size_t len, cm_tok_pieces *out) {
    const bpe_model *m = (const bpe_model *)self;
    if (len == 0) return CM_OK;
    if (m->ignore_merges) {
        int32_t id = cm_tok_vocab_get(m->vocab, word, len);
        if (id >= 0) return cm_tok_pieces_push(out, id, 0, (uint32_t)len);
    }
    size_t plen = m->prefix ? strlen(m->prefix) : 0, slen = m->suffix ? strlen(m->suffix) : 0;
    sym *s = cm_malloc(len * 4 * sizeof *s);          /* at most one symbol per byte, 4 with byte fallback */
    hent *h = cm_malloc((len * 4 + 1) * sizeof *h);
    char *buf = cm_malloc(plen + slen + 8);
    if (!s || !h || !buf) { free(s); free(h); free(buf); return CM_ERR_NOMEM; }
    size_t ns = 0, nh = 0;
    int32_t unk = -1;
    uint32_t unk_start = 0, unk_len = 0;
    for (size_t i = 0; i < len;) {
        size_t cl = cm_utf8_len((unsigned char)word[i]);
        if (i + cl > len) cl = len - i;
        size_t bl = 0;
        if (i > 0 && plen) { memcpy(buf, m->prefix, plen); bl = plen; }
        memcpy(buf + bl, word + i, cl);
        bl += cl;
        if (i + cl == len && slen) { memcpy(buf + bl, m->suffix, slen); bl += slen; }
        int32_t id = cm_tok_vocab_get(m->vocab, buf, bl);
        if (id >= 0) {
            if (unk >= 0) { add_sym(s, &ns, unk, unk_start, unk_len); unk = -1; }
            add_sym(s, &ns, id, (uint32_t)i, (uint32_t)cl);
        } else {
            int done = 0;
            if (m->byte_fallback) {
                int all = 1;
                for (size_t k = 0; k < bl; k++) all &= m->byte_id[(unsigned char)buf[k]] >= 0;
                if (all) {   /* HF adds the byte tokens without flushing a pending unk first */
                    for (size_t k = 0; k < bl; k++)
                        add_sym(s, &ns, m->byte_id[(unsigned char)buf[k]], (uint32_t)(i + (k < cl ? k : cl - 1)), 1);
                    done = 1;
                }
            }
            if (!done && m->unk_id >= 0) {
                if (unk >= 0 && m->fuse_unk) unk_len += (uint32_t)cl;
                else {
                    if (unk >= 0) add_sym(s, &ns, unk, unk_start, unk_len);
                    unk = m->unk_id; unk_start = (uint32_t)i; unk_len = (uint32_t)cl;
                }
            }
            /* no vocab entry, no byte fallback, no unk token: HF drops the character */
        }
        i += cl;
    }
    if (unk >= 0) add_sym(s, &ns, unk, unk_start, unk_len);
    /* merges by (rank, position), as HF's Word::merge_all */
    for (size_t i = 0; i + 1 < ns; i++) {
        const merge_ent *e = merge_get(m, s[i].id, s[i + 1].id);
        if (e) hpush(h, &nh, (hent){e->rank, e->new_id, (int)i});
    }
    while (nh) {
        hent top = hpop(h, &nh);
        sym *cur = &s[top.pos];
        if (cur->len == 0 || cur->next < 0) continue;
        sym *right = &s[cur->next];
        const merge_ent *e = merge_get(m, cur->id, right->id);
        if (!e || e->new_id != top.new_id) continue;   /* stale entry */
        cur->id = top.new_id;
        cur->len += right->len;
        right->len = 0;
        cur->next = right->next;
        if (cur->next >= 0) s[cur->next].prev = top.pos;
        if (cur->prev >= 0) {
            const merge_ent *pe = merge_get(m, s[cur->prev].id, cur->id);
            if (pe) hpush(h, &nh, (hent){pe->rank, pe->new_id, cur->prev});
        }
        if (cur->next >= 0) {
            const merge_ent *ne = merge_get(m, cur->id, s[cur->next].id);
            if (ne) hpush(h, &nh, (hent){ne->rank, ne->new_id, top.pos});
        }
    }
    int rc = CM_OK;
    for (size_t i = 0; i < ns && rc == CM_OK; i++)
        if (s[i].len) rc = cm_tok_pieces_push(out, s[i].id, s[i].start, s[i].start + s[i].len);
    free(s);
    free(h);
    free(buf);
    return rc;
}

static int32_t bpe_token_to_id(const cm_tok_model *self, const char *tok, size_t len) {
    return cm_tok_vocab_get(((const bpe_model *)self)->vocab, tok, len);
}
static const char *bpe_id_to_token(const cm_tok_model *self, int32_t id) {
    const bpe_model *m = (const bpe_model *)self;
    return id >= 0 && (size_t)id < m->n_ids ? m->id_tok[id] : NULL;
}
static size_t bpe_vocab_size(const cm_tok_model *self) { return ((const bpe_model *)self)->n_ids; }

static void bpe_free(cm_tok_model *self) {
    if (!self) return;
    bpe_model *m = (bpe_model *)self;
    cm_tok_vocab_free(m->vocab);
    if (m->id_tok)
        for (size_t i = 0; i < m->n_ids; i++) free(m->id_tok[i]);
    free(m->id_tok);
    free(m->mt);
    free(m->prefix);
    free(m->suffix);
    free(m);
}

/* ---- JSON --------------------------------------------------------------------- */
static int opt_str(const cJSON *j, const char *key, const char **out, const char *path) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v)) return CM_OK;
    if (!cJSON_IsString(v))
        return cm_error(CM_ERR_FORMAT, "%s: model BPE: field '%s': expected a string or null", path, key);
    *out = v->valuestring;
    return CM_OK;
}
static int opt_bool(const cJSON *j, const char *key, int *out, const char *path) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    *out = 0;
    if (!v || cJSON_IsNull(v)) return CM_OK;
    if (!cJSON_IsBool(v))
        return cm_error(CM_ERR_FORMAT, "%s: model BPE: field '%s': expected true or false", path, key);
    *out = cJSON_IsTrue(v);
    return CM_OK;
}

static int load_merges(bpe_model *m, const cJSON *merges, const char *path) {
    size_t n = (size_t)cJSON_GetArraySize(merges);
    m->mcap = 16;
    while (m->mcap < n * 2 + 16) m->mcap *= 2;
    m->mt = cm_calloc(m->mcap, sizeof *m->mt);
    if (!m->mt) return CM_ERR_NOMEM;
    size_t plen = m->prefix ? strlen(m->prefix) : 0;
    cm_str joined = {0};
    size_t rank = 0;
    int rc = CM_OK;
    const cJSON *it;
    cJSON_ArrayForEach(it, merges) {
        const char *a, *b;
        size_t al, bl;
        if (cJSON_IsString(it)) {      /* "a b": exactly one space */
            const char *s = it->valuestring, *sp = strchr(s, ' ');
            if (!sp || strchr(sp + 1, ' ')) {
                rc = cm_error(CM_ERR_FORMAT,
                              "%s: model BPE: merges[%zu]: expected \"A B\" (two tokens separated by one "
                              "space), got \"%s\"",
                              path, rank, s);
                break;
            }
            a = s; al = (size_t)(sp - s); b = sp + 1; bl = strlen(b);
        } else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) == 2 && cJSON_IsString(cJSON_GetArrayItem(it, 0)) &&
                   cJSON_IsString(cJSON_GetArrayItem(it, 1))) {
            a = cJSON_GetArrayItem(it, 0)->valuestring; al = strlen(a);
            b = cJSON_GetArrayItem(it, 1)->valuestring; bl = strlen(b);
        } else {
            rc = cm_error(CM_ERR_FORMAT, "%s: model BPE: merges[%zu]: expected \"A B\" or [\"A\", \"B\"]", path, rank);
            break;
        }
        int32_t ia = cm_tok_vocab_get(m->vocab, a, al), ib = cm_tok_vocab_get(m->vocab, b, bl);
        if (ia < 0 || ib < 0) {
            rc = cm_error(CM_ERR_FORMAT, "%s: model BPE: merges[%zu]: token \"%.*s\" is not in the vocab", path, rank,
                          (int)(ia < 0 ? al : bl), ia < 0 ? a : b);
            break;
        }
        joined.len = 0;
        if (joined.s) joined.s[0] = 0;
        size_t skip = bl >= plen ? plen : bl;
        if ((rc = cm_str_appendn(&joined, a, al)) != CM_OK ||
            (rc = cm_str_appendn(&joined, b + skip, bl - skip)) != CM_OK)
            break;
        int32_t inew = cm_tok_vocab_get(m->vocab, joined.s, joined.len);
        if (inew < 0) {
            rc = cm_error(CM_ERR_FORMAT, "%s: model BPE: merges[%zu]: merged token \"%s\" is not in the vocab", path,
                          rank, joined.s);
            break;
        }
        merge_put(m, ia, ib, (int32_t)rank, inew);
        rank++;
    }
    cm_str_free(&joined);
    return rc;
}

int cm_tok_model_bpe_json(cm_tok_model **out, const cJSON *j, const char *path) {
    *out = NULL;
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(j, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(j, "merges");
    const cJSON *dropout = cJSON_GetObjectItemCaseSensitive(j, "dropout");
    if (!cJSON_IsObject(vocab))
        return cm_error(CM_ERR_FORMAT, "%s: model BPE: field 'vocab': expected an object", path);
    if (merges && !cJSON_IsArray(merges))
        return cm_error(CM_ERR_FORMAT, "%s: model BPE: field 'merges': expected an array", path);
    if (dropout && !cJSON_IsNull(dropout) && !(cJSON_IsNumber(dropout) && dropout->valuedouble == 0.0))
        return cm_error(CM_ERR_UNSUPPORTED, "%s: model BPE: field 'dropout': BPE dropout is random; only null or 0 "
                        "is supported for embedding", path);
    bpe_model *m = cm_calloc(1, sizeof *m);
    if (!m) return CM_ERR_NOMEM;
    m->base.tokenize = bpe_tokenize;
    m->base.token_to_id = bpe_token_to_id;
    m->base.id_to_token = bpe_id_to_token;
    m->base.vocab_size = bpe_vocab_size;
    m->base.free = bpe_free;
    m->unk_id = -1;
    const char *unk, *prefix, *suffix;
    int rc = opt_str(j, "unk_token", &unk, path);
    if (rc == CM_OK) rc = opt_str(j, "continuing_subword_prefix", &prefix, path);
    if (rc == CM_OK) rc = opt_str(j, "end_of_word_suffix", &suffix, path);
    if (rc == CM_OK) rc = opt_bool(j, "fuse_unk", &m->fuse_unk, path);
    if (rc == CM_OK) rc = opt_bool(j, "byte_fallback", &m->byte_fallback, path);
    if (rc == CM_OK) rc = opt_bool(j, "ignore_merges", &m->ignore_merges, path);
    if (rc == CM_OK && prefix && *prefix && !(m->prefix = cm_strdup(prefix))) rc = CM_ERR_NOMEM;
    if (rc == CM_OK && suffix && *suffix && !(m->suffix = cm_strdup(suffix))) rc = CM_ERR_NOMEM;
    size_t nv = (size_t)cJSON_GetArraySize(vocab);
    if (rc == CM_OK) rc = cm_tok_vocab_new(&m->vocab, nv);
    int64_t maxid = -1;
    const cJSON *it;
    if (rc == CM_OK) {
        cJSON_ArrayForEach(it, vocab) {
            if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 2147483647.0 ||
                it->valuedouble != (double)(int64_t)it->valuedouble) {
                rc = cm_error(CM_ERR_FORMAT, "%s: model BPE: vocab[\"%s\"]: expected a non-negative integer id", path,
                              it->string);
                break;
            }
            int64_t id = (int64_t)it->valuedouble;
            if ((rc = cm_tok_vocab_put(m->vocab, it->string, strlen(it->string), (int32_t)id)) != CM_OK) break;
            if (id > maxid) maxid = id;
        }
    }
    if (rc == CM_OK) {
        m->n_ids = (size_t)(maxid + 1);
        m->id_tok = cm_calloc(m->n_ids ? m->n_ids : 1, sizeof *m->id_tok);
        if (!m->id_tok) rc = CM_ERR_NOMEM;
        else cJSON_ArrayForEach(it, vocab) {
            size_t id = (size_t)it->valuedouble;
            if (!m->id_tok[id] && !(m->id_tok[id] = cm_strdup(it->string))) { rc = CM_ERR_NOMEM; break; }
        }
    }
    if (rc == CM_OK && unk) {
        m->unk_id = cm_tok_vocab_get(m->vocab, unk, strlen(unk));
        if (m->unk_id < 0)
            rc = cm_error(CM_ERR_FORMAT, "%s: model BPE: unk_token \"%s\" is not in the vocab", path, unk);
    }
    for (int b = 0; b < 256 && rc == CM_OK; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        m->byte_id[b] = cm_tok_vocab_get(m->vocab, name, 6);
    }
    if (rc == CM_OK && merges) rc = load_merges(m, merges, path);
    if (rc != CM_OK) { bpe_free(&m->base); return rc; }
    *out = &m->base;
    return CM_OK;
}
