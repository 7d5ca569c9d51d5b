/*
 * unigram.c: the "Unigram" tokenizer model of tokenizer.json (SentencePiece Unigram: XLM-R, T5, ...),
 * with huggingface/tokenizers semantics (models/unigram/model.rs, encode_optimized + tokenize):
 *
 *   - Viterbi over the bytes of the word: from each character boundary, every vocabulary piece that
 *     starts there (a byte trie) extends the best path by its score (f64 sums; ties keep the earlier
 *     start). When no piece covers exactly the next character, an unknown node of score
 *     min(score) - 10 covers it.
 *   - The best path is read back; consecutive nodes whose id is unk_id are fused into one string.
 *   - Each resulting string is looked up in the vocabulary; one that is absent becomes byte-fallback
 *     tokens <0xNN> (when byte_fallback and all of them exist) or unk_id.
 *
 * Ownership: cm_tok_model_unigram_json allocates the model; its free releases it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/text/unicode.h"
#include "engine/tokenizer/tokenizer.h"

#define UNK_PENALTY 10.0   /* HF's K_UNK_PENALTY */

/* A byte trie with sorted edges: node i's edges are label[first[i] .. first[i] + nedge[i]). */
typedef struct trie {
    uint32_t *first, *nedge;   /* (n_nodes) */
    int32_t  *id;              /* (n_nodes) piece id ending here, -1 if none */
    uint8_t  *label;           /* (n_edges) */
    uint32_t *child;           /* (n_edges) */
    size_t    n_nodes, n_edges;
    uint32_t  root[256];       /* child of the root per byte, 0 = none (the root is node 0) */
} trie;

typedef struct unigram_model {
    cm_tok_model  base;
    cm_tok_vocab *vocab;       /* piece -> id (a repeated piece: the later id, as HF's HashMap) */
    char        **piece;       /* (n) */
    double       *score;       /* (n) */
    size_t        n;
    int32_t       unk_id;      /* -1: none */
    int           byte_fallback;
    double        unk_score;   /* min(score) - UNK_PENALTY */
    trie          t;
} unigram_model;

/* ---- the trie ---------------------------------------------------------------------------------------- */
typedef struct tkey { const char *s; size_t len; int32_t id; } tkey;

static int tkey_cmp(const void *a, const void *b) {
    const tkey *x = a, *y = b;
    size_t m = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, m);
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
}

/* Builds node `node` from keys[lo..hi), which share their first `depth` bytes; nodes and edges were sized
 * for the worst case (one node and one edge per key byte, plus the root). */
static void trie_build(trie *t, const tkey *k, size_t lo, size_t hi, size_t depth, uint32_t node) {
    t->id[node] = -1;
    while (lo < hi && k[lo].len == depth) t->id[node] = k[lo++].id;   /* sorted: the exact keys come first */
    size_t groups = 0;
    for (size_t i = lo; i < hi; i++)
        if (i == lo || k[i].s[depth] != k[i - 1].s[depth]) groups++;
    t->first[node] = (uint32_t)t->n_edges;
    t->nedge[node] = (uint32_t)groups;
    size_t e = t->n_edges;
    t->n_edges += groups;
    for (size_t i = lo; i < hi;) {
        size_t j = i + 1;
        while (j < hi && k[j].s[depth] == k[i].s[depth]) j++;
        uint32_t c = (uint32_t)t->n_nodes++;
        t->label[e] = (uint8_t)k[i].s[depth];
        t->child[e] = c;
        if (node == 0) t->root[(uint8_t)k[i].s[depth]] = c;
        e++;
        trie_build(t, k, i, j, depth + 1, c);
        i = j;
    }
}

static uint32_t trie_step(const trie *t, uint32_t node, uint8_t c) {
    if (node == 0) return t->root[c];
    uint32_t lo = t->first[node], hi = lo + t->nedge[node];
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (t->label[mid] < c) lo = mid + 1;
        else hi = mid;
    }
    return lo < t->first[node] + t->nedge[node] && t->label[lo] == c ? t->child[lo] : 0;
}

static void trie_free(trie *t) {
    free(t->first);
    free(t->nedge);
    free(t->id);
    free(t->label);
    free(t->child);
}

/* ---- encode --------------------------------------------------------------------------------------------- */
typedef struct node { double score; int32_t start; int32_t id; } node;   /* start -1: not reached */

/* Pushes the tokens of the string word[a..b) (one Viterbi result) to out; id is its piece's id when the
 * path node was a piece (the vocabulary's id for that string), -1 for a fused run of unknowns. */
static int emit(const unigram_model *m, const char *word, size_t a, size_t b, int32_t id, cm_tok_pieces *out) {
    if (id < 0) id = cm_tok_vocab_get(m->vocab, word + a, b - a);
    if (id >= 0) return cm_tok_pieces_push(out, id, (uint32_t)a, (uint32_t)b);
    if (m->byte_fallback) {
        int all = 1;
        for (size_t i = a; i < b && all; i++) {
            char bt[8];
            snprintf(bt, sizeof bt, "<0x%02X>", (unsigned char)word[i]);
            all = cm_tok_vocab_get(m->vocab, bt, 6) >= 0;
        }
        if (all) {
            for (size_t i = a; i < b; i++) {
                char bt[8];
                snprintf(bt, sizeof bt, "<0x%02X>", (unsigned char)word[i]);
                CM_TRY(cm_tok_pieces_push(out, cm_tok_vocab_get(m->vocab, bt, 6), (uint32_t)a, (uint32_t)b));
            }
            return CM_OK;
        }
    }
    if (m->unk_id < 0)
        return cm_error(CM_ERR_FORMAT, "Unigram: '%.*s' is not in the vocabulary and the model has no unk_id",
                        (int)(b - a), word + a);
    return cm_tok_pieces_push(out, m->unk_id, (uint32_t)a, (uint32_t)b);
}

static int unigram_tokenize(const cm_tok_model *self, const char *word, size_t len, cm_tok_pieces *out) {
    const unigram_model *m = (const unigram_model *)self;
    if (len == 0) return CM_OK;
    if (len > INT32_MAX - 1) return cm_error(CM_ERR_ARG, "Unigram: a word of %zu bytes is too long", len);
    node stack_best[257];
    size_t stack_ends[257];
    int32_t stack_ids[257];
    node *best = len < 257 ? stack_best : cm_malloc((len + 1) * sizeof *best);
    size_t *ends = len < 257 ? stack_ends : cm_malloc((len + 1) * sizeof *ends);
    int32_t *ids = len < 257 ? stack_ids : cm_malloc((len + 1) * sizeof *ids);
    if (!best || !ends || !ids) {
        if (best != stack_best) free(best);
        if (ends != stack_ends) free(ends);
        if (ids != stack_ids) free(ids);
        return CM_ERR_NOMEM;
    }
    for (size_t i = 0; i <= len; i++) best[i] = (node){0.0, -1, -1};
    int rc = CM_OK;
    for (size_t s = 0; s < len && rc == CM_OK;) {
        double here = best[s].score;
        size_t mblen = cm_utf8_len((unsigned char)word[s]);
        if (mblen > len - s) mblen = len - s;
        int single = 0;
        uint32_t nd = 0;
        for (size_t e = s; e < len; e++) {
            nd = trie_step(&m->t, nd, (uint8_t)word[e]);
            if (!nd) break;
            int32_t id = m->t.id[nd];
            if (id < 0) continue;
            node *tn = &best[e + 1];
            double cand = m->score[id] + here;
            if (tn->start < 0 || cand > tn->score) *tn = (node){cand, (int32_t)s, id};
            if (e + 1 - s == mblen) single = 1;
        }
        if (!single) {
            if (m->unk_id < 0) {
                rc = cm_error(CM_ERR_FORMAT, "Unigram: no piece covers '%.*s' and the model has no unk_id",
                              (int)mblen, word + s);
                break;
            }
            node *tn = &best[s + mblen];
            double cand = m->unk_score + here;
            if (tn->start < 0 || cand > tn->score) *tn = (node){cand, (int32_t)s, m->unk_id};
        }
        s += mblen;
    }
    /* read the path back right to left (segment k: start ends[k], piece id ids[k], -1 when it needs a
     * lookup), fusing runs of unk nodes */
    if (rc == CM_OK) {
        size_t e = len, nb = 0;
        int prev_unk = 0;
        while (e > 0) {
            const node *nd = &best[e];
            int is_unk = m->unk_id >= 0 && nd->id == m->unk_id;
            if (prev_unk && is_unk) {
                ends[nb - 1] = (size_t)nd->start;   /* extend the fused run leftwards */
                ids[nb - 1] = -1;
            } else {
                ends[nb] = (size_t)nd->start;
                ids[nb++] = is_unk ? -1 : nd->id;
            }
            prev_unk = is_unk;
            e = (size_t)nd->start;
        }
        for (size_t k = nb; k-- > 0 && rc == CM_OK;) rc = emit(m, word, ends[k], k ? ends[k - 1] : len, ids[k], out);
    }
    if (best != stack_best) free(best);
    if (ends != stack_ends) free(ends);
    if (ids != stack_ids) free(ids);
    return rc;
}

/* ---- the vtable ------------------------------------------------------------------------------------- */
static int32_t unigram_token_to_id(const cm_tok_model *self, const char *tok, size_t len) {
    return cm_tok_vocab_get(((const unigram_model *)self)->vocab, tok, len);
}
static const char *unigram_id_to_token(const cm_tok_model *self, int32_t id) {
    const unigram_model *m = (const unigram_model *)self;
    return id >= 0 && (size_t)id < m->n ? m->piece[id] : NULL;
}
static size_t unigram_vocab_size(const cm_tok_model *self) { return ((const unigram_model *)self)->n; }

static void unigram_free(cm_tok_model *self) {
    if (!self) return;
    unigram_model *m = (unigram_model *)self;
    cm_tok_vocab_free(m->vocab);
    if (m->piece)
        for (size_t i = 0; i < m->n; i++) free(m->piece[i]);
    free(m->piece);
    free(m->score);
    trie_free(&m->t);
    free(m);
}

/* ---- tokenizer.json ------------------------------------------------------------------------------------ */
static int build_trie(unigram_model *m) {
    tkey *k = cm_malloc((m->n ? m->n : 1) * sizeof *k);
    if (!k) return CM_ERR_NOMEM;
    size_t total = 1, nk = 0;
    for (size_t i = 0; i < m->n; i++) {
        size_t l = strlen(m->piece[i]);
        if (!l) continue;   /* an empty piece matches nothing in HF's trie either */
        k[nk++] = (tkey){m->piece[i], l, cm_tok_vocab_get(m->vocab, m->piece[i], l)};
        total += l;
    }
    qsort(k, nk, sizeof *k, tkey_cmp);
    trie *t = &m->t;
    t->first = cm_malloc(total * sizeof *t->first);
    t->nedge = cm_malloc(total * sizeof *t->nedge);
    t->id = cm_malloc(total * sizeof *t->id);
    t->label = cm_malloc(total * sizeof *t->label);
    t->child = cm_malloc(total * sizeof *t->child);
    if (!t->first || !t->nedge || !t->id || !t->label || !t->child) { free(k); return CM_ERR_NOMEM; }
    t->n_nodes = 1;
    trie_build(t, k, 0, nk, 0, 0);
    free(k);
    return CM_OK;
}

int cm_tok_model_unigram_json(cm_tok_model **out, const cJSON *j, const char *path) {
    *out = NULL;
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(j, "vocab");
    const cJSON *unk = cJSON_GetObjectItemCaseSensitive(j, "unk_id");
    const cJSON *bf = cJSON_GetObjectItemCaseSensitive(j, "byte_fallback");
    if (!cJSON_IsArray(vocab))
        return cm_error(CM_ERR_FORMAT, "%s: model Unigram: field 'vocab': expected [[piece, score], ...]", path);
    if (unk && !cJSON_IsNull(unk) && !(cJSON_IsNumber(unk) && unk->valuedouble >= 0 && unk->valuedouble < 2e9))
        return cm_error(CM_ERR_FORMAT, "%s: model Unigram: field 'unk_id': expected a non-negative integer or null",
                        path);
    if (bf && !cJSON_IsBool(bf) && !cJSON_IsNull(bf))
        return cm_error(CM_ERR_FORMAT, "%s: model Unigram: field 'byte_fallback': expected true or false", path);
    unigram_model *m = cm_calloc(1, sizeof *m);
    if (!m) return CM_ERR_NOMEM;
    m->base.tokenize = unigram_tokenize;
    m->base.token_to_id = unigram_token_to_id;
    m->base.id_to_token = unigram_id_to_token;
    m->base.vocab_size = unigram_vocab_size;
    m->base.free = unigram_free;
    m->unk_id = unk && cJSON_IsNumber(unk) ? (int32_t)unk->valuedouble : -1;
    m->byte_fallback = cJSON_IsTrue(bf);
    size_t n = (size_t)cJSON_GetArraySize(vocab);
    int rc = cm_tok_vocab_new(&m->vocab, n);
    if (rc == CM_OK) {
        m->piece = cm_calloc(n ? n : 1, sizeof *m->piece);
        m->score = cm_calloc(n ? n : 1, sizeof *m->score);
        if (!m->piece || !m->score) rc = CM_ERR_NOMEM;
    }
    double min_score = HUGE_VAL;
    for (const cJSON *e = vocab->child; e && rc == CM_OK; e = e->next, m->n++) {
        const cJSON *p = cJSON_GetArrayItem(e, 0), *sc = cJSON_GetArrayItem(e, 1);
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 || !cJSON_IsString(p) || !cJSON_IsNumber(sc)) {
            rc = cm_error(CM_ERR_FORMAT, "%s: model Unigram: vocab entry %zu: expected [piece (string), score "
                          "(number)]", path, m->n);
            break;
        }
        if (!(m->piece[m->n] = cm_strdup(p->valuestring))) { rc = CM_ERR_NOMEM; break; }
        m->score[m->n] = sc->valuedouble;
        if (sc->valuedouble < min_score) min_score = sc->valuedouble;
        rc = cm_tok_vocab_put(m->vocab, p->valuestring, strlen(p->valuestring), (int32_t)m->n);
    }
    if (rc == CM_OK && m->unk_id >= 0 && (size_t)m->unk_id >= m->n)
        rc = cm_error(CM_ERR_FORMAT, "%s: model Unigram: field 'unk_id': %d is outside the vocabulary (%zu pieces)",
                      path, (int)m->unk_id, m->n);
    if (rc == CM_OK) {
        m->unk_score = min_score - UNK_PENALTY;
        rc = build_trie(m);
    }
    if (rc != CM_OK) { unigram_free(&m->base); return rc; }
    *out = &m->base;
    return CM_OK;
}
