/* containers.c: growable arrays and the string map (see array.h, strmap.h). */
#include "cmteb/array.h"
#include "cmteb/status.h"
#include "cmteb/strmap.h"
#include "cmteb/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- arrays ---------------------------------------------------------------- */
/* The capacity to grow to for need elements (need > cap): x2, at least 8. */
static size_t next_cap(size_t cap, size_t need) {
    size_t c = cap < 8 ? 8 : cap;
    while (c < need) {
        if (c > SIZE_MAX / 2) return need;
        c *= 2;
    }
    return c;
}

int cm_array_reserve_(void *pp, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return CM_OK;
    return cm_array_reserve_n(cap, need, 1, (void *const[]){pp}, &elem);
}

int cm_array_reserve_n(size_t *cap, size_t need, size_t k, void *const *arrays, const size_t *elem) {
    if (need <= *cap) return CM_OK;
    size_t c = next_cap(*cap, need);
    for (size_t i = 0; i < k; i++)
        if (elem[i] && c > SIZE_MAX / elem[i])
            return cm_error(CM_ERR_NOMEM, "array of %zu x %zu bytes is too large", need, elem[i]);
    /* One array at a time: a failure leaves the earlier ones larger (still
     * valid, elements kept) and *cap as it was, which stays a true bound. */
    for (size_t i = 0; i < k; i++) {
        void *old;
        memcpy(&old, arrays[i], sizeof old);
        void *p = cm_realloc(old, c * elem[i]);
        if (!p) return CM_ERR_NOMEM;
        memcpy(arrays[i], &p, sizeof p);
    }
    *cap = c;
    return CM_OK;
}

/* ---- string map ------------------------------------------------------------ */
/* 24 bytes: a smaller table stays in cache (the tokenizers' vocabularies,
 * engine/tokenizer/vocab.c, look up misses by the million). */
typedef struct {
    const char *key;    /* NULL: empty slot */
    uint64_t    value;
    uint32_t    len;
    uint32_t    hash;   /* the low 32 bits of key_hash: the home slot and a quick compare */
} slot;

struct cm_strmap {
    slot  *slots;   /* (cap), cap a power of two */
    size_t cap, count;
    int    copy_keys;
};

cm_strmap_params cm_strmap_default_params(void) {
    cm_strmap_params p = {0, 0};
    return p;
}

int cm_strmap_init(cm_strmap **out, const cm_strmap_params *params) {
    *out = NULL;
    cm_strmap_params dflt = cm_strmap_default_params();
    if (!params) params = &dflt;
    cm_strmap *m = cm_calloc(1, sizeof *m);
    if (!m) return CM_ERR_NOMEM;
    size_t cap = 16;
    while (cap < params->expected + params->expected / 2 + 1) cap *= 2;
    m->slots = cm_calloc(cap, sizeof *m->slots);
    if (!m->slots) { free(m); return CM_ERR_NOMEM; }
    m->cap = cap;
    m->copy_keys = params->copy_keys;
    *out = m;
    return CM_OK;
}

void cm_strmap_free(cm_strmap *m) {
    if (!m) return;
    if (m->copy_keys)
        for (size_t i = 0; i < m->cap; i++) free((char *)m->slots[i].key);
    free(m->slots);
    free(m);
}

/* The map's own hash, 8 bytes at a time (cm_hash64 goes byte by byte and its
 * values are persisted, so it stays as it is). Never stored or exposed: the
 * map has no iteration, so changing it changes no result. */
static uint64_t key_hash(const char *key, size_t len) {
    const unsigned char *p = (const unsigned char *)key;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)len * 0xc2b2ae3d27d4eb4fULL), w = 0;
    if (len >= 8) {
        size_t i = 0;
        for (; i + 8 <= len; i += 8) {
            memcpy(&w, p + i, 8);
            h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
            h ^= h >> 31;
        }
        if (i < len) memcpy(&w, p + len - 8, 8);   /* the last 8 bytes, overlapping */
        else w = 0;
    } else if (len >= 4) {                          /* two overlapping 4-byte words */
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + len - 4, 4);
        w = (uint64_t)a << 32 | b;
    } else if (len) {                               /* first, middle, last byte */
        w = (uint64_t)p[0] << 16 | (uint64_t)p[len / 2] << 8 | p[len - 1];
    }
    h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 30; h *= 0xbf58476d1ce4e5b9ULL;   /* splitmix64 finaliser: good low bits */
    h ^= h >> 27; h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

static size_t find(const cm_strmap *m, const char *key, size_t len, uint32_t h) {
    size_t mask = m->cap - 1, i = (size_t)h & mask;
    while (m->slots[i].key) {
        const slot *s = &m->slots[i];
        if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0) return i;
        i = (i + 1) & mask;
    }
    return i;
}

static int grow(cm_strmap *m) {
    size_t cap = m->cap * 2;
    slot *ns = cm_calloc(cap, sizeof *ns);
    if (!ns) return CM_ERR_NOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key) continue;
        size_t j = (size_t)m->slots[i].hash & (cap - 1);
        while (ns[j].key) j = (j + 1) & (cap - 1);
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = cap;
    return CM_OK;
}

static int insert(cm_strmap *m, const char *key, size_t len, uint64_t *value, int replace) {
    if (len > UINT32_MAX) return cm_error(CM_ERR_ARG, "strmap: a key of %zu bytes is too long", len);
    uint32_t h = (uint32_t)key_hash(key, len);
    size_t i = find(m, key, len, h);
    if (m->slots[i].key) {
        if (replace) m->slots[i].value = *value;
        else *value = m->slots[i].value;
        return 0;
    }
    if ((m->count + 1) * 4 > m->cap * 3) {   /* load factor 3/4 */
        CM_TRY(grow(m));
        i = find(m, key, len, h);
    }
    const char *k = key;
    if (m->copy_keys && !(k = cm_strndup(key, len))) return CM_ERR_NOMEM;
    m->slots[i] = (slot){k, *value, (uint32_t)len, h};
    m->count++;
    return 1;
}

int cm_strmap_putn(cm_strmap *m, const char *key, size_t len, uint64_t value) {
    return insert(m, key, len, &value, 1);
}

int cm_strmap_put(cm_strmap *m, const char *key, uint64_t value) {
    return insert(m, key, strlen(key), &value, 1);
}

int cm_strmap_insertn(cm_strmap *m, const char *key, size_t len, uint64_t *value) {
    return insert(m, key, len, value, 0);
}

int cm_strmap_getn(const cm_strmap *m, const char *key, size_t len, uint64_t *value) {
    if (len > UINT32_MAX) return 0;
    size_t i = find(m, key, len, (uint32_t)key_hash(key, len));
    if (!m->slots[i].key) return 0;
    if (value) *value = m->slots[i].value;
    return 1;
}

int cm_strmap_get(const cm_strmap *m, const char *key, uint64_t *value) {
    return cm_strmap_getn(m, key, strlen(key), value);
}

size_t cm_strmap_count(const cm_strmap *m) { return m->count; }
